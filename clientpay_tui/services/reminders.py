"""Invite follow-up: one reminder email for an invitation not accepted after a few days.

Whichever mail sender runs (an app session or ``clientpay-tui worker``; several at once on
one PostgreSQL database) calls :func:`queue_due_reminders` before it claims mail. Finding the
due invitations and queueing their reminders happen in one transaction, and each reminder is
claimed with a conditional update of ``portal_login.reminder_sent_at`` (``WHERE … IS NULL``):
of two senders that find the same invitation at once, the second's update waits for the
first to commit, then matches nothing (SQLite runs write transactions one at a time anyway).

An invitation is due when its current welcome link was issued ``invite_reminder_days`` ago or
more, it was never reminded, and the welcome email was delivered (one still queued, or failed,
is for staff to look at first). One that waited longer than ``invite_reminder_days`` plus the
link's lifetime (invited before reminders existed, or while no sender ran) gets none: staff
can re-send it. The reminder carries a fresh welcome link, which revokes the old one.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clientpay_tui.db.models import (
    AccessToken,
    EmailKind,
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.services import audit
from clientpay_tui.services.access_emails import issue_link, queue_email
from clientpay_tui.services.context import ServiceContext
from clientpay_tui.text import plural

log = logging.getLogger(__name__)

REMINDER_ACTOR = "system:invite-reminder"
"""The audit actor and ``requested_by`` of reminders (no staff username has a colon)."""
BATCH = 100
"""Reminders queued per transaction; a sender's next scan takes the rest."""


def queue_due_reminders(ctx: ServiceContext, *, limit: int = BATCH) -> int:
    """Queue the reminder of every due invitation (up to ``limit``); returns how many.

    Cheap when nothing is due: one read, no write lock (on SQLite a write transaction would
    hold every other writer back).
    """
    settings = ctx.settings
    if settings.invite_reminder_days <= 0:
        return 0
    now = ctx.clock()
    with ctx.db.read() as session:
        if not _due(session, ctx, now, limit):
            return 0
    queued = 0
    with ctx.db.write() as session:
        due = _due(session, ctx, now, limit)
        claimed = set(
            session.scalars(
                update(PortalLogin)
                .where(
                    PortalLogin.id.in_([login_id for login_id, _issued in due]),
                    PortalLogin.status == LoginStatus.INVITED,
                    PortalLogin.reminder_sent_at.is_(None),
                )
                .values(reminder_sent_at=now)
                .returning(PortalLogin.id)
                .execution_options(synchronize_session=False)
            )
        )
        for login_id, issued in due:
            if login_id in claimed and _remind(session, ctx, login_id, issued, now):
                queued += 1
    if queued:
        log.info("queued %s", plural(queued, "invitation reminder"))
    return queued


def _due(
    session: Session, ctx: ServiceContext, now: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """Invitations due for their reminder, oldest first, with when their link was issued."""
    settings = ctx.settings
    due_before = now - timedelta(days=settings.invite_reminder_days)
    too_old = due_before - timedelta(days=settings.welcome_token_days)
    issued = func.max(AccessToken.created_at)
    rows = session.execute(
        select(PortalLogin.id, issued)
        .join(AccessToken, AccessToken.login_id == PortalLogin.id)
        .where(
            PortalLogin.status == LoginStatus.INVITED,
            PortalLogin.reminder_sent_at.is_(None),
            AccessToken.purpose == TokenPurpose.WELCOME,
        )
        .group_by(PortalLogin.id)
        .having(issued <= due_before, issued > too_old)
        .order_by(issued, PortalLogin.id)
        .limit(limit)
    ).all()
    return [(login_id, at) for login_id, at in rows if _welcome_arrived(session, login_id)]


def _welcome_arrived(session: Session, login_id: int) -> bool:
    """The login's latest welcome email was delivered (or is not in the outbox any more)."""
    latest = session.scalars(
        select(OutboxEmail.status)
        .join(Payer, Payer.id == OutboxEmail.payer_id)
        .where(Payer.login_id == login_id, OutboxEmail.kind == EmailKind.WELCOME)
        .order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
        .limit(1)
    ).first()
    return latest in (None, EmailStatus.SENT)


def _remind(
    session: Session, ctx: ServiceContext, login_id: int, issued: datetime, now: datetime
) -> bool:
    """Queue the reminder of one claimed invitation: a fresh welcome link, the email, the
    audit event on every record the login covers."""
    settings = ctx.settings
    login = session.get(PortalLogin, login_id)
    payer = session.scalars(
        select(Payer)
        .where(Payer.login_id == login_id, Payer.email.is_not(None))
        .order_by(Payer.id)
        .limit(1)
    ).first()
    if login is None or payer is None or not payer.email:
        return False
    values: dict[str, Any] = {
        "invited_at": issued,
        **issue_link(session, settings, login, TokenPurpose.WELCOME, now),
    }
    try:
        queue_email(
            session, settings, payer, EmailKind.INVITE_REMINDER, now, REMINDER_ACTOR, **values
        )
    except ValueError as error:  # an address that cannot be a header: nothing to send
        summary = f"No invitation reminder sent to {payer.email}: {error}"
        audit.record_for_login(session, now, REMINDER_ACTOR, "access.reminder", summary, login_id)
        return False
    days = settings.invite_reminder_days
    summary = (
        f"Invitation reminder queued to {payer.email}: not accepted "
        f"{plural(days, 'day')} after the welcome email of {issued:%Y-%m-%d}; "
        "a new link replaces the old one"
    )
    audit.record_for_login(session, now, REMINDER_ACTOR, "access.reminder", summary, login_id)
    return True


class ReminderService:
    """:func:`queue_due_reminders` on the shared context: a mail sender's ``chores``."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def queue_due(self) -> int:
        """Queue the reminders due now; returns how many."""
        return queue_due_reminders(self.ctx)
