"""What every signed-in screen receives: the services, who is signed in, and the mailer nudge.

The app builds one :class:`StaffSession` after sign-in and hands it to each screen it creates
(data in by constructor); screens never build services or reach into the app's internals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Types only: the app shell imports this before the services (and SQLAlchemy) load, and
    # the demo's capture server (aiosmtpd) loads only in demo mode.
    from clientpay_tui.mail.capture import CapturedMessage
    from clientpay_tui.services.context import Actor, Permission
    from clientpay_tui.services.facade import Services


def _no_mailer() -> None:
    """Nothing delivers mail in this session: emails stay queued until a worker sends them."""


@dataclass(frozen=True)
class StaffSession:
    services: Services
    actor: Actor
    poke_mailer: Callable[[], None] = field(default=_no_mailer)
    """Wake the mail sender after an action queued an email."""
    captured_mail: Callable[[], Sequence[CapturedMessage]] | None = None
    """Demo mode: the messages the local capture server received (else ``None``)."""

    def can(self, permission: Permission) -> bool:
        return self.actor.can(permission)

    def denial(self, permission: Permission) -> str | None:
        """Why the signed-in staff member may not do ``permission``, or ``None``."""
        return self.actor.denial(permission)
