"""The access emails of a payer (welcome, reset, access added): queueing them in the caller's
transaction, cancelling those whose links no longer work, and the per-payer budgets (the limit
per window, one for staff and one for what payers ask for in the portal, and the window in
which another send asks again first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from clientpay_tui.config import Settings
from clientpay_tui.db.models import (
    EmailKind,
    EmailStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.errors import RateLimited, RecentlySent
from clientpay_tui.mail import outbox
from clientpay_tui.mail.compose import compose
from clientpay_tui.services import tokens

LIMITED_KINDS = (EmailKind.WELCOME, EmailKind.RESET)
"""Kinds counted against the per-payer limit."""
CONFIRM_KINDS = (
    EmailKind.WELCOME,
    EmailKind.RESET,
    EmailKind.ACCESS_ADDED,
    EmailKind.INVITE_REMINDER,
)
"""Kinds after which another send within the confirm window asks again."""
CANCELLED_WITH_LOGIN = (
    EmailKind.WELCOME,
    EmailKind.RESET,
    EmailKind.ACCESS_ADDED,
    EmailKind.INVITE_REMINDER,
)
"""Access emails about a login as it is: cancelled unsent when the login goes or moves."""
SELF_SERVICE = "portal"
"""``requested_by`` of the emails payers ask for themselves in the portal (the portal's audit
actor, ``clientpay_tui.portal.common.PORTAL_ACTOR``; no staff member may be called that)."""
SELF_SERVICE_LIMIT = 3
SELF_SERVICE_MINUTES = 60
"""At most :data:`SELF_SERVICE_LIMIT` emails that payers ask for in the portal go to one payer
in this many minutes. It is a budget of its own: anyone who knows an address can spend it, so
it never counts against what staff send (``email_limit_count`` in ``email_limit_minutes``), and
staff sends never count against it."""


@dataclass(frozen=True)
class EmailQueued:
    """What an access action queued: the toast and the sender follow this email."""

    email_id: int
    kind: EmailKind
    to_address: str
    payer_id: int


@dataclass(frozen=True)
class EmailBudget:
    """Recent access emails to one payer, for the confirm dialog to explain itself."""

    last_sent_at: datetime | None
    sent_in_window: int
    limit: int
    window_minutes: int
    next_allowed_at: datetime | None
    """When the limit frees up again, if it is reached now."""
    needs_confirm: bool
    """An email went out within the confirm window: ask again before sending."""


def email_budget(
    session: Session,
    settings: Settings,
    payer_id: int,
    now: datetime,
    *,
    self_service: bool = False,
) -> EmailBudget:
    """The payer's access emails in the limit window and the latest one, as of ``now``.

    Args:
        self_service: the budget of what payers ask for in the portal
            (:data:`SELF_SERVICE_LIMIT`), instead of the staff's (the settings). Each counts
            only its own emails; the confirm window (``last_sent_at``) looks at every one.
    """
    if self_service:
        limit, minutes = SELF_SERVICE_LIMIT, SELF_SERVICE_MINUTES
        own = OutboxEmail.requested_by == SELF_SERVICE
    else:
        limit, minutes = settings.email_limit_count, settings.email_limit_minutes
        own = OutboxEmail.requested_by != SELF_SERVICE
    window_start = now - timedelta(minutes=minutes)
    count, oldest = session.execute(
        select(func.count(), func.min(OutboxEmail.created_at)).where(
            OutboxEmail.payer_id == payer_id,
            OutboxEmail.kind.in_(LIMITED_KINDS),
            OutboxEmail.created_at > window_start,
            own,
        )
    ).one()
    last = session.scalar(
        select(func.max(OutboxEmail.created_at)).where(
            OutboxEmail.payer_id == payer_id, OutboxEmail.kind.in_(CONFIRM_KINDS)
        )
    )
    reached = count >= limit
    return EmailBudget(
        last_sent_at=last,
        sent_in_window=int(count),
        limit=limit,
        window_minutes=minutes,
        next_allowed_at=(oldest + timedelta(minutes=minutes)) if reached and oldest else None,
        needs_confirm=last is not None
        and (now - last).total_seconds() < settings.resend_confirm_seconds,
    )


def check_budget(
    session: Session, settings: Settings, payer_id: int, now: datetime, confirmed: bool
) -> None:
    """Raise :class:`RateLimited` past the limit, or :class:`RecentlySent` inside the
    confirm window unless the staff member ``confirmed`` sending again."""
    budget = email_budget(session, settings, payer_id, now)
    if budget.next_allowed_at is not None:
        raise RateLimited(
            f"{budget.sent_in_window} welcome or reset emails from staff went to this payer in "
            f"the last "
            f"{budget.window_minutes} minutes (the limit is {budget.limit}); the next can "
            f"go at {budget.next_allowed_at:%H:%M} UTC."
        )
    if budget.needs_confirm and not confirmed and budget.last_sent_at is not None:
        raise RecentlySent(budget.last_sent_at, int((now - budget.last_sent_at).total_seconds()))


def queue_email(
    session: Session,
    settings: Settings,
    payer: Payer,
    kind: EmailKind,
    now: datetime,
    requested_by: str,
    *,
    to_address: str | None = None,
    **values: object,
) -> EmailQueued:
    """Compose ``kind`` for ``payer`` and put it in the outbox of ``session``'s transaction.

    Args:
        requested_by: a staff member's username, or ``portal`` for what a payer asked for.
        to_address: another address than the payer's (a moved login's old one).
        **values: the template's extra values (``link``, ``expires_at``, ``added``, …).
    """
    to_address = to_address or payer.email
    assert to_address is not None
    composed = compose(
        kind,
        firm_name=settings.firm_name,
        payer_name=payer.name,
        portal_url=settings.portal_url,
        **values,  # type: ignore[arg-type]
    )
    row = outbox.enqueue(
        session,
        composed,
        to_address=to_address,
        to_name=payer.name,
        payer_id=payer.id,
        requested_by=requested_by,
        now=now,
        mail_from=settings.mail_from,
    )
    return EmailQueued(row.id, kind, to_address, payer.id)


def issue_link(
    session: Session, settings: Settings, login: PortalLogin, purpose: TokenPurpose, now: datetime
) -> dict[str, object]:
    """A fresh single-use link for ``login`` (its older unused links of ``purpose`` are
    revoked): the ``link`` and ``expires_at`` values of a welcome or reset email."""
    if purpose == TokenPurpose.WELCOME:
        valid_for, path = timedelta(days=settings.welcome_token_days), "welcome"
    else:
        valid_for, path = timedelta(hours=settings.reset_token_hours), "reset"
    raw, expires = tokens.issue(session, login, purpose, now, valid_for)
    return {"link": f"{settings.portal_url}/{path}?token={raw}", "expires_at": expires}


def recompose(
    email: OutboxEmail, settings: Settings, payer: Payer, now: datetime, **values: object
) -> None:
    """Write ``email`` again for ``payer`` as it is now (name, ``values`` such as a new link).

    It is a new email in all but its row: queued ``now``, so that it counts against the email
    limit like any other send.
    """
    composed = compose(
        email.kind,
        firm_name=settings.firm_name,
        payer_name=payer.name,
        portal_url=settings.portal_url,
        **values,  # type: ignore[arg-type]
    )
    email.subject, email.body_text, email.body_html = composed.subject, composed.text, composed.html
    email.to_name = payer.name
    email.created_at = now


def cancel_unsent(session: Session, payer_id: int, reason: str) -> int:
    """Stop unsent access emails to ``payer_id`` whose links no longer work: queued ones, and
    those a sender has claimed, which it checks again just before sending (see
    :func:`clientpay_tui.mail.claims.not_wanted`)."""
    result = session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.payer_id == payer_id,
            OutboxEmail.kind.in_(CANCELLED_WITH_LOGIN),
            OutboxEmail.status.in_((EmailStatus.QUEUED, EmailStatus.SENDING)),
        )
        .values(status=EmailStatus.FAILED, last_error=reason, body_text=None, body_html=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
