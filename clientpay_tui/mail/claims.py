"""Claiming outbox rows, so that any number of senders deliver each email once.

Senders can run in several app sessions and ``clientpay-tui worker`` processes at the same
time. A sender *claims* due rows in one short transaction (status ``sending``, its name in
``claimed_by``), sends them, and records each result only if its claim still holds:

- PostgreSQL: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING …``, so two
  senders claiming at once each take rows the other did not lock.
- SQLite: the same statement, which there runs inside ``BEGIN IMMEDIATE`` (see
  :meth:`Database.write`); SQLite drops ``SKIP LOCKED`` silently, but an immediate transaction
  already makes the select-and-update atomic across processes.

A sender that dies keeps its rows in ``sending``. Each recorded result also refreshes the
sender's remaining claims (a heartbeat), so a claim whose ``claimed_at`` is older than
:func:`claim_timeout` belongs to a dead sender and is taken over.

Every function here is synchronous and opens its own transaction: the async sender calls them
with :func:`asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailKind, EmailStatus, OutboxEmail
from clientpay_tui.mail.delivery import DeliveryResult, Outcome

BACKOFF_FIRST = timedelta(seconds=30)
"""Wait before the second attempt; each later wait doubles …"""
BACKOFF_CAP = timedelta(hours=1)
"""… up to this."""
MAX_ATTEMPTS = 10
"""After this many temporary failures (about three hours) the email is marked failed."""


@dataclass(frozen=True)
class ClaimedEmail:
    """An outbox row this sender now holds, detached from any session."""

    id: int
    kind: EmailKind
    payer_id: int | None
    to_address: str
    to_name: str
    subject: str
    body_text: str | None
    body_html: str | None
    message_id: str
    attempts: int
    """Including the attempt this claim is for."""


def claim_timeout(smtp_timeout: float) -> timedelta:
    """How long a claim lasts without a heartbeat before another sender may take it over.

    Longer than one message can take: connect, TLS, login and the four commands of one message
    each get ``smtp_timeout`` seconds.
    """
    return timedelta(seconds=10 * smtp_timeout + 60)


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th attempt failed temporarily (30 s, 1 min, 2 min … 1 h)."""
    seconds = BACKOFF_FIRST.total_seconds() * 2 ** max(0, attempts - 1)
    return min(BACKOFF_CAP, timedelta(seconds=seconds))


def _due(now: datetime, stale_before: datetime) -> ColumnElement[bool]:
    return or_(
        and_(OutboxEmail.status == EmailStatus.QUEUED, OutboxEmail.next_attempt_at <= now),
        and_(OutboxEmail.status == EmailStatus.SENDING, OutboxEmail.claimed_at <= stale_before),
    )


def claim(
    db: Database, *, sender: str, now: datetime, stale_before: datetime, limit: int
) -> list[ClaimedEmail]:
    """Take up to ``limit`` due emails (oldest due first) for ``sender``.

    Args:
        db: the database.
        sender: this sender's unique name, stored in ``claimed_by``.
        now: the current time; emails with ``next_attempt_at <= now`` are due.
        stale_before: claims made at or before this (by a sender that died) are taken over.
        limit: the most emails to take.
    """
    due = _due(now, stale_before)
    # A CTE, not ``id IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)``: PostgreSQL may run such a
    # subquery once per candidate row, each run skipping the rows the previous ones locked,
    # and so claim far more than ``limit`` rows. A locking CTE is evaluated exactly once.
    chosen = (
        select(OutboxEmail.id)
        .where(due)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("chosen")
    )
    statement = (
        update(OutboxEmail)
        .where(OutboxEmail.id == chosen.c.id, due)
        .values(
            status=EmailStatus.SENDING,
            claimed_at=now,
            claimed_by=sender,
            attempts=OutboxEmail.attempts + 1,
        )
        .returning(
            OutboxEmail.id,
            OutboxEmail.kind,
            OutboxEmail.payer_id,
            OutboxEmail.to_address,
            OutboxEmail.to_name,
            OutboxEmail.subject,
            OutboxEmail.body_text,
            OutboxEmail.body_html,
            OutboxEmail.message_id,
            OutboxEmail.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    with db.write() as session:
        rows = session.execute(statement).all()
    # RETURNING gives no order: send in the order the emails were queued.
    return sorted((ClaimedEmail(**row._mapping) for row in rows), key=lambda email: email.id)


def record(
    db: Database,
    results: Sequence[DeliveryResult],
    *,
    sender: str,
    now: datetime,
    released: Sequence[int] = (),
) -> set[int]:
    """Store the outcome of each attempt, give back ``released`` (claimed, never attempted;
    see :func:`release`), and refresh this sender's other claims, all in one transaction.

    A sent email loses its body: it holds a live single-use link that nobody needs to read
    again; subject, recipient and Message-ID stay for the Mail screen.

    Returns:
        The ids whose claim had been taken over by another sender (their result is not stored).
    """
    mine = (OutboxEmail.status == EmailStatus.SENDING, OutboxEmail.claimed_by == sender)
    sent = [r.email_id for r in results if r.outcome is Outcome.SENT]
    lost: set[int] = set()
    with db.write() as session:
        if sent:  # the common case, in one statement
            stored = session.scalars(
                update(OutboxEmail)
                .where(OutboxEmail.id.in_(sent), *mine)
                .values(
                    status=EmailStatus.SENT,
                    sent_at=now,
                    last_error=None,
                    body_text=None,
                    body_html=None,
                )
                .returning(OutboxEmail.id)
                .execution_options(synchronize_session=False)
            )
            lost.update(set(sent) - set(stored))
        for result in results:
            values: dict[str, object]
            if result.outcome is Outcome.SENT:
                continue
            if result.outcome is Outcome.RETRY:
                assert result.next_attempt_at is not None
                values = {
                    "status": EmailStatus.QUEUED,
                    "next_attempt_at": result.next_attempt_at,
                    "last_error": result.error,
                }
            else:
                values = {"status": EmailStatus.FAILED, "last_error": result.error}
            updated = session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == result.email_id, *mine)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if updated.rowcount == 0:  # type: ignore[attr-defined]
                lost.add(result.email_id)
        if released:
            _release(session, released, sender)
        _heartbeat(session, sender, now)
    return lost


def release(db: Database, ids: Iterable[int], *, sender: str) -> int:
    """Give back claimed emails that were never attempted: queued again, attempt not counted."""
    wanted = list(ids)
    if not wanted:
        return 0
    with db.write() as session:
        return _release(session, wanted, sender)


def _release(session: Session, ids: Sequence[int], sender: str) -> int:
    result = session.execute(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(ids),
            OutboxEmail.status == EmailStatus.SENDING,
            OutboxEmail.claimed_by == sender,
        )
        .values(status=EmailStatus.QUEUED, attempts=OutboxEmail.attempts - 1)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


_CLAIM_STATE = select(
    OutboxEmail.id, OutboxEmail.status, OutboxEmail.claimed_by, OutboxEmail.last_error
).where(OutboxEmail.id.in_(bindparam("ids", expanding=True)))


def not_wanted(db: Database, ids: Collection[int], *, sender: str) -> dict[int, str]:
    """Check, just before sending, that ``sender`` should still send these emails.

    Returns:
        For each email that must not be sent any more, why not: cancelled meanwhile (the
        login was deleted or moved: the reason stored then), taken over by another sender
        after the claim expired, or gone. Emails still ``sending`` under this sender's claim
        are not in it.
    """
    if not ids:
        return {}
    with db.read() as session:
        # Often, on a fast server: a Core statement built once, half the cost of the ORM's.
        rows = session.connection().execute(_CLAIM_STATE, {"ids": list(ids)}).all()
    reasons = {email_id: "it is no longer in the outbox" for email_id in ids}
    for row in rows:
        if row.status == EmailStatus.SENDING and row.claimed_by == sender:
            del reasons[row.id]
        elif row.status == EmailStatus.FAILED:
            reasons[row.id] = row.last_error or "it was cancelled"
        else:
            reasons[row.id] = f"it is {row.status.value}, claimed by {row.claimed_by or 'nobody'}"
    return reasons


def next_due(db: Database, *, timeout: timedelta) -> datetime | None:
    """When the next email becomes due: a queued one's next attempt, or a stale claim."""
    with db.read() as session:
        queued = session.scalar(
            select(func.min(OutboxEmail.next_attempt_at)).where(
                OutboxEmail.status == EmailStatus.QUEUED
            )
        )
        claimed = session.scalar(
            select(func.min(OutboxEmail.claimed_at)).where(
                OutboxEmail.status == EmailStatus.SENDING
            )
        )
    times = [t for t in (queued, claimed + timeout if claimed else None) if t is not None]
    return min(times) if times else None


def _heartbeat(session: Session, sender: str, now: datetime) -> None:
    session.execute(
        update(OutboxEmail)
        .where(OutboxEmail.status == EmailStatus.SENDING, OutboxEmail.claimed_by == sender)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
