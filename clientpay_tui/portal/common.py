"""What the portal's functions share: who a signed-in payer is, lookups, and even pacing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Payer, PortalLogin
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services import validation
from clientpay_tui.services.context import ServiceContext
from clientpay_tui.services.facade import Services

PORTAL_ACTOR = "portal"
"""The audit log's actor for what payers do in the portal."""

RESPONSE_FLOOR_SECONDS = 0.2
"""Sign-in and reset requests take at least this long, whichever path they took.

Known and unknown addresses do the same kind of work, but not exactly the same amount (a known
address writes a token and an email). Waiting out the rest of a fixed floor hides what is left
of the difference; a production argon2 check (~150 ms) already fills most of it for sign-in.
"""


@dataclass(frozen=True)
class PortalIdentity:
    """A payer signed in to the portal: one login, one address, one or more payer records."""

    login_id: int
    email: str
    payer_ids: tuple[int, ...]
    names: tuple[str, ...]
    """The records' names, oldest record first, each once."""


class PortalPart:
    """Base of the portal's parts: the service context, the shared services, the pacing."""

    def __init__(self, services: Services, *, floor_seconds: float = RESPONSE_FLOOR_SECONDS):
        self.services = services
        self.ctx: ServiceContext = services.ctx
        self.floor_seconds = floor_seconds

    def pace(self, started: float) -> None:
        """Sleep until ``floor_seconds`` have passed since ``started`` (a perf_counter)."""
        left = self.floor_seconds - (time.perf_counter() - started)
        if left > 0:
            time.sleep(left)


def email_key(value: str) -> str | None:
    """The lookup key of an address as typed, or ``None`` when it cannot be an address."""
    try:
        checked = validation.email_address(value)
    except ValidationFailed:
        return None
    return checked[1] if checked else None


def login_by_email(session: Session, key: str | None, *, lock: bool = False) -> PortalLogin | None:
    if key is None:
        return None
    query = select(PortalLogin).where(PortalLogin.email_key == key)
    return session.scalars(query.with_for_update() if lock else query).first()


def records_of(session: Session, login_id: int) -> list[Payer]:
    """The payer records a login covers, oldest first."""
    return list(session.scalars(select(Payer).where(Payer.login_id == login_id).order_by(Payer.id)))


def identity_of(session: Session, login: PortalLogin) -> PortalIdentity:
    records = records_of(session, login.id)
    return identity_from(login.id, login.email_key, [(p.id, p.email, p.name) for p in records])


def identity_from(
    login_id: int, email_key: str, records: list[tuple[int, str | None, str]]
) -> PortalIdentity:
    """The identity of a login from its records' ``(id, email, name)``, oldest first: the
    first record's address that is set, else the login's key."""
    email = next((address for _id, address, _name in records if address), email_key)
    return PortalIdentity(
        login_id,
        email,
        tuple(record_id for record_id, _email, _name in records),
        tuple(dict.fromkeys(name for _id, _email, name in records)),
    )
