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
from typing import Any, Protocol

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
    can_count_matches,
    contains,
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
    ) -> ColumnElement[bool] | None:
        """The payers the list shows for ``text`` and ``status`` (``None``: every payer)."""
        by_text, narrow = self._text_where(session, text, rows_wanted)
        by_status = status_where(session, status, self.ctx.clock(), rows_wanted, gather=not narrow)
        if by_status is None:
            return by_text
        if by_text is None:
            return by_status.condition
        return and_(by_text, by_status.condition)

    def _text_where(
        self, session: Session, text: str, rows_wanted: int
    ) -> tuple[ColumnElement[bool] | None, bool]:
        """Name or email contains ``text``, or an associated client's number starts with it;
        and whether that condition gathers few payers through an index (narrow).

        A condition on ``payer`` itself (not ``id IN (subquery)``), so that the planner can walk
        ``ix_payer_sort`` and stop after a page. The contains-index is used only when it finds
        few rows: for many (``example.com``: every payer) walking the name order finds a page
        at once, while gathering every match first reads all of them (bench/RESULTS.md).
        """
        key = validation.search_key(text)
        if not key:
            return None, False
        dialect = self.ctx.db.engine.dialect.name
        keys = [Payer.sort_name, Payer.email_key]
        found: int | None = None  # PostgreSQL: its trigram index is used whatever it finds
        threshold = BROAD_MATCH_MIN
        if can_count_matches(dialect, key):
            # Walking reads ~rows_wanted * payers / matches rows; gathering reads ~matches.
            payers = int(session.scalar(select(func.max(Payer.id))) or 0)
            threshold = max(BROAD_MATCH_MIN, math.isqrt(rows_wanted * payers))
            found = count_matches(session.connection(), keys, key, threshold)
        use_index = found is None or found < threshold
        narrow = found is not None and found < threshold
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
            if where is not None:
                query = query.where(where)
            page = session.execute(
                query.order_by(Payer.sort_name, Payer.id).offset(offset).limit(limit)
            ).all()
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
            where = self._where(session, text, cap + 1, status)
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
            query = select(Payer.id)
            where = self._where(session, text, max(payers, 1), status)
            if where is not None:
                query = query.where(where)
            return list(session.scalars(query.order_by(Payer.sort_name, Payer.id)))


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
