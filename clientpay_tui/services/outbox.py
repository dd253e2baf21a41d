"""The outbox as staff see it on the Mail screen: list, and retry a failed email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from clientpay_tui.db.models import EmailKind, EmailStatus, OutboxEmail
from clientpay_tui.errors import AccessStateError, NotFound
from clientpay_tui.services import audit
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: EmailKind
    status: EmailStatus
    payer_id: int | None
    to_address: str
    to_name: str
    subject: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    message_id: str


class OutboxService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(
        self,
        actor: Actor,
        status: EmailStatus | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> list[OutboxRow]:
        """Newest first; optionally one status only."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            query = select(OutboxEmail).order_by(OutboxEmail.id.desc())
            if status is not None:
                query = query.where(OutboxEmail.status == status)
            return [_row(e) for e in session.scalars(query.offset(offset).limit(limit))]

    def counts(self, actor: Actor) -> dict[EmailStatus, int]:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            rows = session.execute(
                select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)
            )
            found = {status: int(count) for status, count in rows}
            return {status: found.get(status, 0) for status in EmailStatus}

    def retry(self, actor: Actor, email_id: int) -> OutboxRow:
        """Queue a failed email again, due now. Emails cancelled with their login cannot be."""
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.SEND_RESET)
            email = session.get(OutboxEmail, email_id, with_for_update=True)
            if email is None:
                raise NotFound(f"Email {email_id} does not exist.")
            if email.status != EmailStatus.FAILED:
                raise AccessStateError(
                    f"Only failed emails can be retried; this one is {email.status.value}."
                )
            if email.body_text is None:
                raise AccessStateError(
                    "This email was cancelled and its link no longer works; "
                    "send a new one from the payer."
                )
            email.status = EmailStatus.QUEUED
            email.next_attempt_at = now
            audit.record(
                session,
                now,
                actor,
                "email.retry",
                f"Queued the {email.kind.value} email to {email.to_address} again",
                email.payer_id,
            )
            session.flush()
            return _row(email)


def _row(email: OutboxEmail) -> OutboxRow:
    return OutboxRow(
        id=email.id,
        kind=email.kind,
        status=email.status,
        payer_id=email.payer_id,
        to_address=email.to_address,
        to_name=email.to_name,
        subject=email.subject,
        attempts=email.attempts,
        created_at=email.created_at,
        next_attempt_at=email.next_attempt_at,
        sent_at=email.sent_at,
        last_error=email.last_error,
        message_id=email.message_id,
    )
