"""A payer's login status: the states the payer list shows and filters by, read in Python for a
row already loaded (:func:`clientpay_tui.services.payer_search.access_status`) and written in
SQL for the list's filter (:func:`status_where`). Both read the same facts in the same order,
and the tests check that they agree state by state on both backends:

1. no login → *No login*;
2. the login is locked (``locked_until`` in the future) → *Locked*;
3. the payer's latest access email (welcome, reset or notice) failed → *Email failed*;
4. the login is invited → *Invited*, and *Invite expired* too when no unused, unrevoked
   welcome link outlives ``now`` (the details screen's "link expired" or "no valid link");
5. else → *Active*.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

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

ACCESS_EMAILS = (
    EmailKind.WELCOME,
    EmailKind.RESET,
    EmailKind.ACCESS_ADDED,
    EmailKind.INVITE_REMINDER,
)
"""The emails whose latest one decides *Email failed*."""
GATHER_MIN = 1000
"""A status held by fewer payers than this is always gathered through its index."""


class AccessStatus(enum.StrEnum):
    """The login status shown for a payer."""

    NONE = "None"
    INVITED = "Invited"
    ACTIVE = "Active"
    LOCKED = "Locked"
    EMAIL_FAILED = "Email failed"


class StatusFilter(enum.StrEnum):
    """What the payer list shows, by login status (``f`` cycles through them in this order)."""

    ALL = "All"
    NO_LOGIN = "No login"
    INVITED = "Invited"
    INVITE_EXPIRED = "Invite expired"
    ACTIVE = "Active"
    LOCKED = "Locked"
    EMAIL_FAILED = "Email failed"

    def next(self) -> StatusFilter:
        members = list(StatusFilter)
        return members[(members.index(self) + 1) % len(members)]


_SHOWN_AS = {
    StatusFilter.NO_LOGIN: AccessStatus.NONE,
    StatusFilter.INVITED: AccessStatus.INVITED,
    StatusFilter.INVITE_EXPIRED: AccessStatus.INVITED,
    StatusFilter.ACTIVE: AccessStatus.ACTIVE,
    StatusFilter.LOCKED: AccessStatus.LOCKED,
    StatusFilter.EMAIL_FAILED: AccessStatus.EMAIL_FAILED,
}


def welcome_link_dead(expires_at: datetime | None, now: datetime) -> bool:
    """No welcome link works: ``expires_at`` (the latest unused, unrevoked one's) has passed,
    or there is none."""
    return expires_at is None or expires_at <= now


def invite_expired(
    status: AccessStatus, welcome_expires_at: datetime | None, now: datetime
) -> bool:
    """An invitation that can no longer be accepted: *Invited*, and no welcome link works."""
    return status == AccessStatus.INVITED and welcome_link_dead(welcome_expires_at, now)


def shows(
    wanted: StatusFilter, status: AccessStatus, welcome_expires_at: datetime | None, now: datetime
) -> bool:
    """Whether a payer in ``status`` (its login's latest welcome link expiring at
    ``welcome_expires_at``) is one that ``wanted`` shows: the Python side of
    :func:`status_where`."""
    if wanted == StatusFilter.ALL:
        return True
    if wanted == StatusFilter.INVITE_EXPIRED:
        return invite_expired(status, welcome_expires_at, now)
    return _SHOWN_AS[wanted] == status


# -- SQL -------------------------------------------------------------------------------------


def welcome_expiries(session: Session, login_ids: Iterable[int]) -> dict[int, datetime]:
    """When each login's welcome link expires: the latest unused, unrevoked one (no entry: the
    login has no such link)."""
    rows = session.execute(
        select(AccessToken.login_id, func.max(AccessToken.expires_at))
        .where(
            AccessToken.login_id.in_(list(login_ids)),
            AccessToken.purpose == TokenPurpose.WELCOME,
            AccessToken.used_at.is_(None),
            AccessToken.revoked_at.is_(None),
        )
        .group_by(AccessToken.login_id)
    )
    return {login_id: expires for login_id, expires in rows if expires is not None}


def _locked(now: datetime) -> ColumnElement[bool]:
    return PortalLogin.locked_until > now


def _not_locked(now: datetime) -> ColumnElement[bool]:
    return or_(PortalLogin.locked_until.is_(None), PortalLogin.locked_until <= now)


def _live_welcome_link(login_id: Any, now: datetime) -> ColumnElement[bool]:
    return exists(
        select(AccessToken.id).where(
            AccessToken.login_id == login_id,
            AccessToken.purpose == TokenPurpose.WELCOME,
            AccessToken.used_at.is_(None),
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > now,
        )
    )


def _logins(wanted: StatusFilter, now: datetime) -> Select[Any]:
    """The logins of the payers ``wanted`` shows (before the email check)."""
    query = select(PortalLogin.id)
    if wanted == StatusFilter.LOCKED:
        return query.where(_locked(now))
    query = query.where(_not_locked(now))
    if wanted in (StatusFilter.INVITED, StatusFilter.INVITE_EXPIRED):
        query = query.where(PortalLogin.status == LoginStatus.INVITED)
    elif wanted == StatusFilter.ACTIVE:
        query = query.where(PortalLogin.status == LoginStatus.ACTIVE)
    if wanted == StatusFilter.INVITE_EXPIRED:
        query = query.where(~_live_welcome_link(PortalLogin.id, now))
    return query


def _failed_latest() -> tuple[Any, ColumnElement[bool]]:
    """An access email that failed and is its payer's latest: the outbox alias and the
    condition on it."""
    email, newer = aliased(OutboxEmail), aliased(OutboxEmail)
    condition = and_(
        email.kind.in_(ACCESS_EMAILS),
        email.status == EmailStatus.FAILED,
        ~exists(
            select(newer.id).where(
                newer.payer_id == email.payer_id,
                newer.kind.in_(ACCESS_EMAILS),
                newer.id > email.id,
            )
        ),
    )
    return email, condition


def probe(query: Select[Any], is_postgresql: bool) -> ColumnElement[bool]:
    """``EXISTS (query)``, kept a per-row probe that stops at its first hit.

    PostgreSQL turns a correlated ``EXISTS`` (under ``OR``, or a semi-join) into a hash of every
    matching row first; an ``OFFSET 0`` keeps it a probe of each row walked.
    """
    return exists(query.offset(0) if is_postgresql else query)


@dataclass(frozen=True)
class StatusWhere:
    """The filter as a condition on ``payer`` and whether it was written to be gathered."""

    condition: ColumnElement[bool]
    gathered: bool
    """Written as ``payer.id IN (few ids)`` through the status's own indexes; otherwise a
    per-payer test, for a query that walks the name order and stops after a page."""


def status_where(
    session: Session, wanted: StatusFilter, now: datetime, rows_wanted: int, *, gather: bool
) -> StatusWhere | None:
    """The payers ``wanted`` shows, as a condition on ``payer`` (``None`` for *All*).

    Like the text search (:meth:`PayerService._where`), a status held by few payers is gathered
    through its indexes and the few found are sorted; one held by many is tested payer by payer
    while the query walks ``ix_payer_sort``, which finds a page at once (gathering 70,000
    payers without a login and sorting them costs ~100 ms at 100,000 payers).

    Args:
        rows_wanted: the rows the query reads (offset + limit, or a count's cap).
        gather: gathering is allowed (not when a narrow text search already gathers).
    """
    if wanted == StatusFilter.ALL:
        return None
    is_postgresql = session.get_bind().dialect.name == "postgresql"
    if gather:
        payers = int(session.scalar(select(func.max(Payer.id))) or 0)
        threshold = max(GATHER_MIN, math.isqrt(rows_wanted * payers))
        found = session.scalar(
            select(func.count()).select_from(_index_read(wanted, now).limit(threshold).subquery())
        )
        if not found:
            # Nobody in that state (a firm that has invited no one yet): PostgreSQL's guess for
            # an empty table turned the gathering into a walk of every payer (300-480 ms for
            # an empty page at 100,000 payers).
            return StatusWhere(false(), gathered=True)
        if int(found) < threshold:
            return StatusWhere(_gathered(wanted, now, is_postgresql), gathered=True)
    return StatusWhere(_per_payer(wanted, now, is_postgresql), gathered=False)


def _index_read(wanted: StatusFilter, now: datetime) -> Select[Any]:
    """What gathering reads first through the status's own indexes (payers without a login,
    the logins in that state, or the failed emails that are their payer's latest): counted
    up to a threshold to choose between gathering and walking."""
    if wanted == StatusFilter.NO_LOGIN:
        return select(Payer.id).where(Payer.login_id.is_(None))
    if wanted == StatusFilter.EMAIL_FAILED:
        email, failed = _failed_latest()
        return select(email.payer_id).where(failed, email.payer_id.is_not(None))
    return _logins(wanted, now)


def _gathered(wanted: StatusFilter, now: datetime, is_postgresql: bool) -> ColumnElement[bool]:
    # "payer.id IN (…)": SQLite looks the few ids up by rowid and sorts them, whatever its
    # statistics say about the login index (a plain "login_id IN (…)" walked every payer).
    if wanted == StatusFilter.NO_LOGIN:
        return Payer.id.in_(_index_read(wanted, now))
    if wanted == StatusFilter.EMAIL_FAILED:
        return and_(Payer.id.in_(_index_read(wanted, now)), _per_payer(wanted, now, is_postgresql))
    ids = Payer.id.in_(select(Payer.id).where(Payer.login_id.in_(_logins(wanted, now))))
    if wanted == StatusFilter.LOCKED:
        return ids
    return and_(ids, ~_email_failed(is_postgresql))


def _per_payer(wanted: StatusFilter, now: datetime, is_postgresql: bool) -> ColumnElement[bool]:
    """``wanted`` tested on one payer row: its login by primary key, its latest email by the
    outbox's payer index."""
    if wanted == StatusFilter.NO_LOGIN:
        # "+ 0": a test of each row walked, never a reason to leave the name order for the
        # login index (which many payers without a login make slow to sort).
        return (Payer.login_id + 0).is_(None)
    login = probe(_logins(wanted, now).where(PortalLogin.id == Payer.login_id), is_postgresql)
    if wanted == StatusFilter.LOCKED:
        return login
    email_failed = _email_failed(is_postgresql)
    return and_(login, email_failed if wanted == StatusFilter.EMAIL_FAILED else ~email_failed)


def _email_failed(is_postgresql: bool) -> ColumnElement[bool]:
    """The payer's latest access email failed."""
    email, failed = _failed_latest()
    return probe(select(email.id).where(email.payer_id == Payer.id, failed), is_postgresql)
