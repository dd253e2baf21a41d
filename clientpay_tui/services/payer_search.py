"""Payer search for the list: which payers match a text and a login status, one page at a time.

The condition is planned per search (the contains-index or the name-order walk, client numbers
gathered or probed per payer) so that a page of 100,000 payers is read without gathering every
match. :class:`~clientpay_tui.services.payers.PayerService` is the public face.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVarTuple

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, func, or_, select, union
from sqlalchemy.orm import Session, aliased

from clientpay_tui.db.models import (
    Association,
    Client,
    EmailKind,
    EmailStatus,
    Invoice,
    LoginStatus,
    Matter,
    OutboxEmail,
    Payer,
    PortalLogin,
)
from clientpay_tui.db.search_index import (
    MIN_TRIGRAM,
    contains,
    contains_row_by_row,
    count_matches,
    prefix_range,
)
from clientpay_tui.services import validation
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.payer_status import (
    ACCESS_EMAILS,
    AccessStatus,
    StatusFilter,
    probe,
    status_where,
)

Columns = TypeVarTuple("Columns")

BROAD_MATCH_MIN = 1000
"""Fewer contains-matches than this are always gathered through the search index."""
BROAD_CLIENTS = 200
"""A client-number prefix matching this many clients is searched payer by payer."""


@dataclass(frozen=True)
class EmailSummary:
    id: int
    kind: EmailKind
    status: EmailStatus
    to_address: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class PayerRow:
    id: int
    name: str
    email: str | None
    status: AccessStatus
    last_email_at: datetime | None


class LoginState(Protocol):
    """What a payer's access status reads of their login (a ``PortalLogin``, or the two
    columns a page of the list reads with its payers)."""

    @property
    def status(self) -> LoginStatus: ...

    @property
    def locked_until(self) -> datetime | None: ...


@dataclass(frozen=True)
class PageLogin:
    """A login's two columns, read with a page of the list."""

    status: LoginStatus
    locked_until: datetime | None


def access_status(
    login: LoginState | None, last_email: EmailSummary | None, now: datetime
) -> AccessStatus:
    if login is None:
        return AccessStatus.NONE
    if login.locked_until is not None and login.locked_until > now:
        return AccessStatus.LOCKED
    if last_email is not None and last_email.status == EmailStatus.FAILED:
        return AccessStatus.EMAIL_FAILED
    return AccessStatus.INVITED if login.status == LoginStatus.INVITED else AccessStatus.ACTIVE


def last_access_emails(session: Session, payer_ids: Iterable[int]) -> dict[int, EmailSummary]:
    """Each payer's latest welcome or reset email (the one its access status reads)."""
    return page_emails(session, payer_ids)[0]


def page_emails(
    session: Session, payer_ids: Iterable[int]
) -> tuple[dict[int, EmailSummary], dict[int, datetime]]:
    """Each payer's latest welcome or reset email, and when an email to them was last sent,
    in one statement (a page of the list read them in two: ~2 ms of a search)."""
    ids = list(payer_ids)
    if not ids:
        return {}, {}
    per_payer = (
        select(
            OutboxEmail.payer_id.label("payer_id"),
            func.max(OutboxEmail.id).filter(OutboxEmail.kind.in_(ACCESS_EMAILS)).label("latest"),
            func.max(OutboxEmail.sent_at).label("last_sent"),
        )
        .where(OutboxEmail.payer_id.in_(ids))
        .group_by(OutboxEmail.payer_id)
        .subquery()
    )
    rows = session.execute(
        select(per_payer.c.payer_id, per_payer.c.last_sent, OutboxEmail).outerjoin(
            OutboxEmail, OutboxEmail.id == per_payer.c.latest
        )
    )
    latest: dict[int, EmailSummary] = {}
    last_sent: dict[int, datetime] = {}
    for payer_id, sent, email in rows:
        if payer_id is None:
            continue
        if sent is not None:
            last_sent[payer_id] = sent
        if email is not None:
            latest[payer_id] = EmailSummary(
                email.id,
                email.kind,
                email.status,
                email.to_address,
                email.created_at,
                email.sent_at,
                email.last_error,
            )
    return latest, last_sent


@dataclass(frozen=True)
class PayerWhere:
    """Which payers a search shows, and how a page of them is best read."""

    condition: ColumnElement[bool] | None
    """``None``: every payer."""
    gathered: bool
    """The matches are gathered and sorted for a page, not found by walking the name order:
    they were counted few, or a walk would not reach them soon (:func:`_page_lies_early`).
    Left to itself PostgreSQL walked the name order's index for them when its estimate was
    wrong: a first name typed ("zoe", 2,300 of 100,000 payers) sorts together near the end,
    and the walk read ~95,000 names before the first match (50 ms; sorted: 5 ms)."""

    def apply(self, query: Select[*Columns]) -> Select[*Columns]:
        """``query`` narrowed to these payers, in name order."""
        if self.condition is not None:
            query = query.where(self.condition)
        if not self.gathered:
            return query.order_by(Payer.sort_name, Payer.id)
        # The same order, written so that no index serves it, so none is walked for it ("id":
        # SQLite read the matches through the whole name index, whose second column it is).
        return query.order_by(Payer.sort_name.op("||")(""), Payer.id + 0)


class PayerSearch:
    """Search and paging of the payer list (the read side of :class:`PayerService`)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _where(
        self,
        session: Session,
        text: str,
        rows_wanted: int,
        status: StatusFilter = StatusFilter.ALL,
        *,
        paged: bool = True,
    ) -> PayerWhere:
        """The payers the list shows for ``text`` and ``status``; ``paged``: for a page of them
        in name order (not a count, nor every one of them: planning how a page is found would
        read every payer for those)."""
        by_text, narrow = self._text_where(session, text, rows_wanted, paged=paged)
        by_status = status_where(session, status, self.ctx.clock(), rows_wanted, gather=not narrow)
        if by_status is None:
            return PayerWhere(by_text, narrow)
        if by_text is None:
            return PayerWhere(by_status.condition, False)
        return PayerWhere(and_(by_text, by_status.condition), narrow)

    def _text_where(
        self, session: Session, text: str, rows_wanted: int, *, paged: bool = True
    ) -> tuple[ColumnElement[bool] | None, bool]:
        """Name or email contains ``text``, or an associated client's number starts with it;
        and whether its matches are gathered and sorted for a page (narrow: few, or lying
        together late in the name order) rather than found by walking the name order.

        A condition on ``payer`` itself (not ``id IN (subquery)``), so that the planner can walk
        ``ix_payer_sort`` and stop after a page. The contains-index is used only when it finds
        few rows: for many (``example.com``: every payer) walking the name order finds a page
        at once, while gathering every match first reads all of them (bench/RESULTS.md) —
        unless the many lie together late in the name order (a first name: "zoe" is 2,300
        payers, all after "z"), where a walk reads nearly every payer to reach them
        (:func:`_page_lies_early`).
        """
        key = validation.search_key(text)
        if not key:
            return None, False
        dialect = self.ctx.db.engine.dialect.name
        keys = [Payer.sort_name, Payer.email_key]
        found: int | None = None  # shorter text: no index can count it
        threshold = BROAD_MATCH_MIN
        # SQLite's condition itself depends on the count (its FTS table, or LIKE row by row);
        # PostgreSQL's only how a page is read (PayerWhere.gathered): a count goes without.
        counted = len(key) >= MIN_TRIGRAM and (paged or dialect == "sqlite")
        if paged or counted:
            # Walking reads ~rows_wanted * payers / matches rows; gathering reads ~matches.
            payers = int(session.scalar(select(func.max(Payer.id))) or 0)
            threshold = max(BROAD_MATCH_MIN, math.isqrt(rows_wanted * payers))
        if counted:
            found = _count_matches(session, keys, key, threshold)
        narrow = (found is not None and found < threshold) or (
            paged and not _page_lies_early(session, key, threshold, rows_wanted)
        )
        use_index = found is None or narrow
        by_text = contains(dialect, Payer.id, keys, key, use_index=use_index)
        by_client = _by_client_number(session, validation.number_key(text))
        if by_client is None:
            return by_text, narrow
        if isinstance(by_client, CompoundSelect):
            if use_index:
                # Few of both: gather each through its index and sort the few found. An OR
                # walked every payer in name order to find them (PostgreSQL cannot OR a
                # trigram index with a list of ids).
                gathered: CompoundSelect[Any] = union(
                    select(Payer.id).where(by_text), *by_client.selects
                )
                return Payer.id.in_(gathered), narrow
            return or_(by_text, Payer.id.in_(by_client)), False
        return or_(by_text, by_client), False

    def search(
        self,
        actor: Actor,
        text: str = "",
        offset: int = 0,
        limit: int = 50,
        status: StatusFilter = StatusFilter.ALL,
    ) -> list[PayerRow]:
        """One page of payers matching ``text`` (name or email contains it, or an associated
        client's number starts with it) whose login state ``status`` shows, ordered by name."""
        now = self.ctx.clock()
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            # The login's two columns with the page (it was a statement of its own, ~1 ms of a
            # search). An alias: the status filter's subqueries read portal_login themselves,
            # and would otherwise be correlated to this join.
            login = aliased(PortalLogin)
            query = select(
                Payer.id, Payer.name, Payer.email, login.status, login.locked_until
            ).outerjoin(login, login.id == Payer.login_id)
            where = self._where(session, text, offset + limit, status)
            page = session.execute(where.apply(query).offset(offset).limit(limit)).all()
            last_email, last_sent = page_emails(session, [row.id for row in page])
            return [
                PayerRow(
                    id=row.id,
                    name=row.name,
                    email=row.email,
                    status=access_status(
                        PageLogin(row.status, row.locked_until) if row.status is not None else None,
                        last_email.get(row.id),
                        now,
                    ),
                    last_email_at=last_sent.get(row.id),
                )
                for row in page
            ]

    def count(
        self,
        actor: Actor,
        text: str = "",
        cap: int = 10_000,
        status: StatusFilter = StatusFilter.ALL,
    ) -> tuple[int, bool]:
        """How many payers match (as :meth:`search`), counted up to ``cap``. Returns
        ``(count, capped)``."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            query = select(Payer.id)
            where = self._where(session, text, cap + 1, status, paged=False).condition
            if where is not None:
                query = query.where(where)
            counted = session.scalar(
                select(func.count()).select_from(query.limit(cap + 1).subquery())
            )
            counted = int(counted or 0)
            return min(counted, cap), counted > cap

    def matching_ids(
        self, actor: Actor, text: str = "", status: StatusFilter = StatusFilter.ALL
    ) -> list[int]:
        """The ids of every payer :meth:`search` finds, on every page, in its order."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            payers = int(session.scalar(select(func.count()).select_from(Payer)) or 0)
            where = self._where(session, text, max(payers, 1), status, paged=False)
            return list(session.scalars(where.apply(select(Payer.id))))


def _count_matches(session: Session, keys: list[Any], key: str, cap: int) -> int:
    """How many payers' names or emails contain ``key``, counted up to ``cap`` through the
    search index (SQLite's FTS table; PostgreSQL's trigram indexes)."""
    found = count_matches(session.connection(), keys, key, cap)
    if found is None:
        dialect = session.get_bind().dialect.name
        matches = select(Payer.id).where(contains(dialect, Payer.id, keys, key)).limit(cap)
        found = int(session.scalar(select(func.count()).select_from(matches.subquery())) or 0)
    return found


def _page_lies_early(session: Session, key: str, rows_read: int, rows_wanted: int) -> bool:
    """Whether the first ``rows_wanted`` payers whose name or email contains ``key`` are
    among the first ``rows_read`` payers in name order, so that a walk of the name order reads
    no more than that for them. Many matches are not always spread out: a first name's
    payers sort together, and for one that sorts late the walk read 95,000 of 100,000 payers
    before the first (50 ms; gathered and sorted: 5-10 ms)."""
    head = (
        select(Payer.sort_name, Payer.email_key)
        .order_by(Payer.sort_name, Payer.id)
        .limit(rows_read)
        .subquery()
    )
    matches = (
        select(head.c.sort_name)
        .where(contains_row_by_row([head.c.sort_name, head.c.email_key], key))
        .limit(rows_wanted)
        .subquery()
    )
    return int(session.scalar(select(func.count()).select_from(matches)) or 0) >= rows_wanted


def _by_client_number(
    session: Session, key: str
) -> CompoundSelect[tuple[int]] | ColumnElement[bool] | None:
    """The payer has an association under a client whose number starts with ``key``.

    ``None`` when no client number does (most searches are names): nothing to add. For a few
    clients the payers' ids are gathered through each level's index (a ``UNION`` returned as
    such: an ``OR`` of the three levels scanned every association). For many (``c0``),
    gathering would list their invoices by the million; a per-payer ``EXISTS`` condition lets
    the page walk ``ix_payer_sort``.
    """
    clients = select(Client.id).where(prefix_range(Client.number_key, key))
    found = session.scalar(
        select(func.count()).select_from(clients.limit(BROAD_CLIENTS).subquery())
    )
    if not found:
        return None
    if found < BROAD_CLIENTS:
        matters = select(Matter.id).where(Matter.client_id.in_(clients))
        invoices = select(Invoice.id).where(Invoice.client_id.in_(clients))
        gathered = union(
            select(Association.payer_id).where(Association.client_id.in_(clients)),
            select(Association.payer_id).where(Association.matter_id.in_(matters)),
            select(Association.payer_id).where(Association.invoice_id.in_(invoices)),
        )
        return gathered  # type: ignore[return-value]
    mine = Association.payer_id == Payer.id
    is_postgresql = session.get_bind().dialect.name == "postgresql"

    def per_payer(query: Select[Any]) -> ColumnElement[bool]:
        # A "hashed SubPlan" on PostgreSQL listed every matching association first (all the
        # invoice-level rows of a payer with many).
        return probe(query, is_postgresql)

    return or_(
        # Each level joins from the payer's few rows to the client and tests its number,
        # rather than listing the matching clients for every payer.
        per_payer(
            select(Association.id)
            .join(Client, Client.id == Association.client_id)
            .where(mine, Association.client_id.is_not(None), prefix_range(Client.number_key, key))
        ),
        per_payer(
            select(Association.id)
            .join(Matter, Matter.id == Association.matter_id)
            # not-null: a payer's many invoice-level rows are skipped in the index, not read
            .where(mine, Association.matter_id.is_not(None), Matter.client_id.in_(clients))
        ),
        per_payer(
            select(Association.id)
            .join(Invoice, Invoice.id == Association.invoice_id)
            .where(mine, Association.invoice_id.is_not(None), Invoice.client_id.in_(clients))
        ),
    )
