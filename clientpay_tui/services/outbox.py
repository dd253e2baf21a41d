"""The outbox as staff see it on the Mail screen: list, and retry a failed email (with a fresh
link for a welcome or reset, refused when its login is gone)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import (
    EmailKind,
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.errors import AccessStateError, NotFound, RetryRefusal, RetryRefused
from clientpay_tui.services import audit
from clientpay_tui.services.access_emails import check_budget, issue_link, recompose
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require

LINK_KINDS = {
    EmailKind.WELCOME: TokenPurpose.WELCOME,
    EmailKind.INVITE_REMINDER: TokenPurpose.WELCOME,
    EmailKind.RESET: TokenPurpose.RESET,
}
"""Emails that carry a single-use link, and its purpose."""
LOGIN_KINDS = (
    EmailKind.WELCOME,
    EmailKind.INVITE_REMINDER,
    EmailKind.RESET,
    EmailKind.ACCESS_ADDED,
)
"""Emails about a login as it is: they may go again only while it is still the payer's, at
the same address. (A password-changed notice tells of the past and may always go.)"""


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
        """Newest first (by the date shown, when queued); optionally one status only."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            query = select(OutboxEmail).order_by(
                OutboxEmail.created_at.desc(), OutboxEmail.id.desc()
            )
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
        """Queue a failed email again, due now, with a fresh count of attempts.

        A welcome or reset email is written again with a fresh link (the login's older links
        of that purpose are revoked: the one it held may have expired long ago) and counts
        against the staff's email limit like any other send.

        Raises:
            RetryRefused: its ``kind`` says why, when the email's login was deleted or moved
                to another address, a welcome's invitation was accepted meanwhile, or the
                email was cancelled with its login. Nothing is changed.
            AccessStateError: the email has not failed.
            RateLimited: the payer had too many welcome or reset emails from staff lately.
        """
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
            renewed = self._renew(session, actor, email, now)
            email.status = EmailStatus.QUEUED
            email.next_attempt_at = now
            email.attempts = 0
            audit.record(
                session,
                now,
                actor,
                "email.retry",
                f"Queued the {email.kind.value} email to {email.to_address} again{renewed}",
                email.payer_id,
            )
            session.flush()
            return _row(email)

    def _renew(self, session: Session, actor: Actor, email: OutboxEmail, now: datetime) -> str:
        """Check that ``email`` may go again; give a welcome or reset a fresh link.

        Returns:
            What the audit summary adds (which new link), or nothing.
        """
        about = _payer_and_login(session, email) if email.kind in LOGIN_KINDS else None
        if email.body_text is None:
            raise RetryRefused(RetryRefusal.CANCELLED, email.to_address)
        purpose = LINK_KINDS.get(email.kind)
        if purpose is None or about is None:
            return ""
        payer, login = about
        _check_link_state(email, login)
        settings = self.ctx.settings
        check_budget(session, settings, payer.id, now, confirmed=True)
        recompose(email, settings, payer, now, **issue_link(session, settings, login, purpose, now))
        email.requested_by = actor.username
        return f" with a new {purpose.value} link"


def _payer_and_login(session: Session, email: OutboxEmail) -> tuple[Payer, PortalLogin]:
    """The payer and the login an access email was about, or why it can no longer go."""
    payer = session.get(Payer, email.payer_id, with_for_update=True) if email.payer_id else None
    if payer is None:
        raise RetryRefused(RetryRefusal.PAYER_DELETED, email.to_address)
    login = (
        session.get(PortalLogin, payer.login_id, with_for_update=True) if payer.login_id else None
    )
    if login is None:
        raise RetryRefused(RetryRefusal.LOGIN_DELETED, email.to_address)
    if login.email_key != email.to_address.casefold():
        raise RetryRefused(RetryRefusal.LOGIN_MOVED, email.to_address, moved_to=login.email_key)
    return payer, login


def _check_link_state(email: OutboxEmail, login: PortalLogin) -> None:
    if LINK_KINDS.get(email.kind) == TokenPurpose.WELCOME and login.status != LoginStatus.INVITED:
        raise RetryRefused(RetryRefusal.PASSWORD_SET, email.to_address)
    if email.kind == EmailKind.RESET and login.status == LoginStatus.INVITED:
        raise RetryRefused(RetryRefusal.NOT_ACCEPTED, email.to_address)


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
