"""The audit log: one row per change, written in the transaction of the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import AuditEvent, Payer
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.text import clean_text


def record(
    session: Session,
    at: datetime,
    actor: Actor | str,
    action: str,
    summary: str,
    payer_id: int | None = None,
) -> None:
    """Add an audit event to ``session`` (committed or rolled back with the change itself).

    Args:
        at: when it happened (the service's clock).
        actor: the staff member, or a label such as ``portal`` for payer actions.
        action: a dotted name, e.g. ``access.grant``.
        summary: one line that a person reads on the Activity tab.
    """
    who = actor.username if isinstance(actor, Actor) else actor
    session.add(
        AuditEvent(at=at, actor=who, action=action, payer_id=payer_id, summary=clean_text(summary))
    )


def record_for_login(
    session: Session,
    at: datetime,
    actor: Actor | str,
    action: str,
    summary: str,
    login_id: int | None,
) -> None:
    """Record one event on every payer record a portal login covers.

    A login shared by several records (one email address) is one account: what happens to it
    belongs on each record's Activity tab. With no login (an unknown email or link) the event
    is recorded once, about no payer.
    """
    payer_ids: list[int | None] = []
    if login_id is not None:
        payer_ids.extend(
            session.scalars(select(Payer.id).where(Payer.login_id == login_id).order_by(Payer.id))
        )
    for payer_id in payer_ids or [None]:
        record(session, at, actor, action, summary, payer_id)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    summary: str


class AuditService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def for_payer(self, actor: Actor, payer_id: int, limit: int = 200) -> list[AuditEntry]:
        """The newest events about one payer first."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            rows = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.payer_id == payer_id)
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                .limit(limit)
            )
            return [AuditEntry(r.at, r.actor, r.action, r.summary) for r in rows]

    def recent(self, actor: Actor, limit: int = 200) -> list[AuditEntry]:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            rows = session.scalars(
                select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
            )
            return [AuditEntry(r.at, r.actor, r.action, r.summary) for r in rows]
