"""What the app needs from whatever delivers the outbox: results to toast, and a nudge.

The aiosmtplib sender implements :class:`Mailer`; the app receives one and runs it in a
Textual worker, turning each :class:`DeliveryResult` into a toast on the screen that asked.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from clientpay_tui.db.models import EmailKind


class Outcome(enum.StrEnum):
    SENT = "sent"
    """Accepted by the mail server."""
    RETRY = "retry"
    """A temporary failure: still queued, tried again at ``next_attempt_at``."""
    FAILED = "failed"
    """A permanent failure (5xx, refused recipient): marked failed, shown on the Mail screen."""


@dataclass(frozen=True)
class DeliveryResult:
    email_id: int
    payer_id: int | None
    kind: EmailKind
    to_address: str
    outcome: Outcome
    error: str | None = None
    """The server's reply or the connection error, one line."""
    next_attempt_at: datetime | None = None


class Mailer(Protocol):
    @property
    def stop_seconds(self) -> float:
        """The longest :meth:`stop` can take to end :meth:`run`."""

    def poke(self) -> None:
        """Something was just queued: deliver now instead of at the next poll."""

    def stop(self) -> None:
        """End :meth:`run` soon: the email being sent finishes and its result is stored
        (cancelling ``run`` instead gives that email back, to be sent again)."""

    async def run(self, on_result: Callable[[DeliveryResult], None]) -> None:
        """Deliver due mail until stopped or cancelled, calling ``on_result`` for every
        attempt."""
