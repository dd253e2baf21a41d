"""Candidate invoices for associations: search over five fields, column filters, paging.

The search text matches Client Name, Matter Description or Invoice Number by substring (accents
aside: ``elodie`` finds ``Élodie``), and Client Number or Matter Number by prefix, all
case-insensitively. ``%`` and ``_`` are literal.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    union,
    union_all,
)
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Association, Client, Invoice, InvoiceSource, Matter
from clientpay_tui.db.search_index import MIN_TRIGRAM, contains, count_matches, prefix_range
from clientpay_tui.services.validation import number_key, search_key


class SortColumn(enum.StrEnum):
    CLIENT = "client"
    MATTER = "matter"
    DESCRIPTION = "description"
    INVOICE = "invoice"
    DATE = "date"
    AMOUNT = "amount"
    BALANCE = "balance"
    SOURCE = "source"


_SORT_KEYS: dict[SortColumn, tuple[Any, ...]] = {
    SortColumn.CLIENT: (Client.number_key,),
    SortColumn.MATTER: (Matter.number_key,),
    SortColumn.DESCRIPTION: (Matter.description_key,),
    SortColumn.INVOICE: (Invoice.number_key,),
    SortColumn.DATE: (Invoice.invoice_date,),
    SortColumn.AMOUNT: (Invoice.amount_cents,),
    SortColumn.BALANCE: (Invoice.balance_cents,),
    SortColumn.SOURCE: (Invoice.source,),
}


@dataclass(frozen=True)
class CandidateFilter:
    """What the add-associations screen shows: its search box and column filters."""

    text: str = ""
    client: str = ""
    """Client filter: number prefix or name substring."""
    matter: str = ""
    """Matter filter: number prefix or description substring."""
    sources: frozenset[InvoiceSource] = field(default_factory=frozenset)
    """Empty means every source."""
    open_only: bool | None = None
    """``True`` open (balance above zero), ``False`` paid, ``None`` both."""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class CandidateSort:
    column: SortColumn = SortColumn.DATE
    descending: bool = True


@dataclass(frozen=True)
class CandidateRow:
    invoice_id: int
    client_id: int
    client_number: str
    client_name: str
    matter_id: int | None
    matter_number: str | None
    matter_description: str | None
    invoice_number: str
    invoice_date: date
    amount_cents: int
    balance_cents: int
    source: InvoiceSource
    covered: bool
    """Already visible to the payer through an association."""


def _client_ids(dialect: str, text: str) -> Select[Any]:
    return select(Client.id).where(
        or_(
            prefix_range(Client.number_key, number_key(text)),
            contains(dialect, Client.id, [Client.name_key], search_key(text)),
        )
    )


def _matter_ids(dialect: str, text: str) -> Select[Any]:
    return select(Matter.id).where(
        or_(
            prefix_range(Matter.number_key, number_key(text)),
            contains(dialect, Matter.id, [Matter.description_key], search_key(text)),
        )
    )


def _invoice_number(
    dialect: str, text: str, number: Any = Invoice.number_key, limit: int | None = None
) -> Any:
    """The invoice number holds ``text`` anywhere (``880412`` finds ``INV-00880412``):
    through the trigram index from three characters, by prefix below that (a shorter
    part of a number matches too much to be a search anyone means)."""
    key = number_key(text)
    if len(key) < MIN_TRIGRAM:
        return prefix_range(number, key)
    if number is not Invoice.number_key:
        return contains(dialect, Invoice.id, [number], key, use_index=False)
    digits = max(re.findall(r"[0-9]+", key), key=len, default="")
    if len(digits) >= MIN_TRIGRAM and digits != key:
        # Numbers share their letters ("inv-" is in every one of a million): looking them up
        # reads those long lists (SQLite 0.1-0.2 s; PostgreSQL's count 1.1 s). The digits
        # find few rows through the index, and the whole text is checked on those.
        return and_(
            contains(dialect, Invoice.id, [number], digits),
            contains(dialect, Invoice.id, [number.op("||")("")], key, use_index=False),
        )
    return contains(dialect, Invoice.id, [number], key, limit=limit)


BROAD_MATCH_MIN = 1000
"""Never walk the sort order for fewer (estimated) matches than this."""
WALK_COST = {"sqlite": 1.0, "postgresql": 0.3}
"""Cost of walking one invoice relative to gathering one, as measured at 1,000,000 invoices:
PostgreSQL tests a walked row against a hashed list, far cheaper than its gathering joins."""
_LOOKUP_CAP = 5000
"""Matching clients, matters or invoice numbers are counted up to this many (cheap)."""


def _has_lookups(where: CandidateFilter) -> bool:
    return bool(search_key(where.text) or search_key(where.client) or search_key(where.matter))


Lookup = str
"""One of the ANDed lookups of a filter: ``"text"``, ``"client"`` or ``"matter"``."""


def _lookup_estimates(
    session: Session, where: CandidateFilter, number_cap: int
) -> dict[str, float]:
    """How many invoices each lookup of ``where`` matches, estimated from the small tables
    (matching clients and matters times their average invoices, matching invoice numbers),
    each counted up to a cap through its index, so the estimate never reads the invoices."""
    dialect = session.get_bind().dialect.name
    invoices, clients, matters = (
        session.scalar(select(func.max(table.id))) for table in (Invoice, Client, Matter)
    )
    per_client = (invoices or 0) / max(clients or 1, 1)
    per_matter = (invoices or 0) / max(matters or 1, 1)

    def counted(ids: Select[Any], cap: int = _LOOKUP_CAP) -> int:
        inner = ids.limit(cap).subquery()
        return int(session.scalar(select(func.count()).select_from(inner)) or 0)

    def numbers(text: str) -> int:
        # The FTS table counts its own matches up to the cap; "id IN (its matches)" would
        # list every one of them first (all million for "inv").
        found = count_matches(
            session.connection(), [Invoice.number_key], number_key(text), number_cap
        )
        if found is not None:
            return found
        return counted(select(Invoice.id).where(_invoice_number(dialect, text)), number_cap)

    estimates: dict[str, float] = {}
    if search_key(where.text):
        # The largest, not the sum: a matter number starts with its client's number, so the
        # lookups mostly find the same invoices.
        estimates["text"] = max(
            counted(_client_ids(dialect, where.text)) * per_client,
            counted(_matter_ids(dialect, where.text)) * per_matter,
            numbers(where.text),
        )
    if search_key(where.client):
        estimates["client"] = counted(_client_ids(dialect, where.client)) * per_client
    if search_key(where.matter):
        estimates["matter"] = counted(_matter_ids(dialect, where.matter)) * per_matter
    return estimates


def walk_sort_order(
    session: Session, where: CandidateFilter, rows_wanted: int, *, threshold: int | None = None
) -> bool:
    """Whether a page is found sooner by walking the sort order than by gathering every match.

    Walking reads about ``rows_wanted * invoices / matches`` rows; gathering reads ``matches``.
    They cost the same near ``sqrt(rows_wanted * invoices)``: about 7,000 matches for a page of
    50 among 1,000,000 invoices. Matches are estimated by :func:`_lookup_estimates`.

    Args:
        threshold: walk from this many estimated matches (default: the break-even above).
    """
    if not _has_lookups(where):
        return False
    dialect = session.get_bind().dialect.name
    invoices = session.scalar(select(func.max(Invoice.id)))
    if not invoices:
        return False
    if threshold is None:
        factor = WALK_COST.get(dialect, 1.0)
        threshold = int(factor * max(BROAD_MATCH_MIN, math.isqrt(rows_wanted * invoices)))
    # Invoice numbers are counted as far as the threshold itself: a cap below it kept "inv-0",
    # matching every one of a million invoices, from ever counting as broad (2 s to gather and
    # sort them all for one page).
    estimates = _lookup_estimates(session, where, max(_LOOKUP_CAP, threshold))
    return min(estimates.values()) >= threshold  # the lookups are ANDed: the narrowest decides


def driving_lookup(session: Session, where: CandidateFilter) -> Lookup | None:
    """The narrowest of several lookups: the one whose index should find the matches (the
    others are then checked row by row). ``None`` with fewer than two lookups.

    Left to itself SQLite drove "c00012" (506 invoices) together with the client filter "e"
    (most of a million) from the client filter: 1.6 s instead of a few milliseconds.
    """
    present = [bool(search_key(value)) for value in (where.text, where.client, where.matter)]
    if sum(present) < 2:
        return None
    estimates = _lookup_estimates(session, where, _LOOKUP_CAP)
    return min(estimates, key=lambda lookup: estimates[lookup])


def candidate_conditions(
    dialect: str,
    where: CandidateFilter,
    *,
    sort_driven: bool = False,
    driver: Lookup | None = None,
    count_cap: int | None = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Invoice`` for a filter (no joins needed).

    Args:
        sort_driven: write the client, matter and invoice-number lookups so that no index can
            serve them (``column + 0``, ``key || ''``); the planner then walks the sort order's
            index and stops after a page instead of gathering every match first.
        driver: only this lookup may use its indexes (see :func:`driving_lookup`); the
            others are written as with ``sort_driven`` and checked on the rows it finds.
        count_cap: the conditions are for a count capped at this many: an index lookup may
            stop after one more match than that.
    """
    conditions: list[ColumnElement[bool]] = []

    def columns(lookup: Lookup) -> tuple[Any, Any, Any]:
        if sort_driven or (driver is not None and driver != lookup):
            return Invoice.client_id + 0, Invoice.matter_id + 0, Invoice.number_key.op("||")("")
        return Invoice.client_id, Invoice.matter_id, Invoice.number_key

    client_id, matter_id, number = columns("text")
    indexed_text = not sort_driven and driver in (None, "text")
    text = where.text
    if search_key(text) and (not indexed_text or dialect == "sqlite"):
        # SQLite serves this OR from the three indexes at once (MULTI-INDEX OR) and stops at
        # a LIMIT; written with "+ 0" it walks the sort order instead.
        conditions.append(
            or_(
                client_id.in_(_client_ids(dialect, text)),
                matter_id.in_(_matter_ids(dialect, text)),
                _invoice_number(
                    dialect, text, number, None if count_cap is None else count_cap + 1
                ),
            )
        )
    elif search_key(text):
        # A UNION, not an OR: PostgreSQL cannot serve an OR of IN-subqueries from indexes
        # (it scanned all invoices, 1.4 s, to find that 'zzzz' matches nothing).
        matching = union(
            select(Invoice.id).where(Invoice.client_id.in_(_client_ids(dialect, text))),
            select(Invoice.id).where(Invoice.matter_id.in_(_matter_ids(dialect, text))),
            select(Invoice.id).where(_invoice_number(dialect, text)),
        )
        conditions.append(Invoice.id.in_(matching))
    if search_key(where.client):
        client_id = columns("client")[0]
        conditions.append(client_id.in_(_client_ids(dialect, where.client)))
    if search_key(where.matter):
        matter_id = columns("matter")[1]
        conditions.append(matter_id.in_(_matter_ids(dialect, where.matter)))
    # On SQLite the source and open/paid filters are written so that no index serves them:
    # those indexes are there for the sorts, and SQLite's statistics hold no skew, so it
    # took "balance = 0" (most invoices) or "source IN (...)" (a third) for selective and
    # gathered and sorted every match through them (0.25-1.6 s a page at 1,000,000 invoices).
    # PostgreSQL knows the common values and walks the index when that is better.
    sqlite = dialect == "sqlite"
    source = func.coalesce(Invoice.source, Invoice.source) if sqlite else Invoice.source
    balance = Invoice.balance_cents + 0 if sqlite else Invoice.balance_cents
    if where.sources:
        conditions.append(source.in_(sorted(where.sources)))
    if where.open_only is True:
        conditions.append(balance > 0)
    elif where.open_only is False:
        conditions.append(balance == 0)
    if where.date_from is not None:
        conditions.append(Invoice.invoice_date >= where.date_from)
    if where.date_to is not None:
        conditions.append(Invoice.invoice_date <= where.date_to)
    return conditions


PayerIds = int | tuple[int, ...]
"""One payer record, or several (the records a portal login covers): they see the union."""


def _mine(payer_ids: PayerIds) -> ColumnElement[bool]:
    if isinstance(payer_ids, int):
        return Association.payer_id == payer_ids
    if len(payer_ids) == 1:
        return Association.payer_id == payer_ids[0]
    return Association.payer_id.in_(payer_ids)


def covered_by(payer_ids: PayerIds, *, probe: bool = False) -> ColumnElement[bool]:
    """The invoice is visible to ``payer_ids`` through any association level.

    Checked row by row (a flag on a page of candidates): one ``EXISTS`` per level, so that each
    probes its ``(payer_id, target)`` unique index. A single ``EXISTS`` with an ``OR`` inside
    scanned every association of the payer for every invoice (seconds at 90,000 associations).

    Args:
        probe: keep each ``EXISTS`` a probe per invoice on PostgreSQL too (``OFFSET 0``), which
            otherwise hashes every association of the payer first (40 ms at 90,000) even when a
            page of 50 needs a few hundred probes.
    """
    mine = _mine(payer_ids)

    def has(column: Any, target: Any) -> ColumnElement[bool]:
        found = select(Association.id).where(mine, column == target)
        return exists(found.offset(0) if probe else found)

    return or_(
        has(Association.invoice_id, Invoice.id),
        and_(Invoice.matter_id.is_not(None), has(Association.matter_id, Invoice.matter_id)),
        has(Association.client_id, Invoice.client_id),
    )


def visible_invoice_ids(payer_ids: PayerIds) -> Select[tuple[int]]:
    """The ids of every invoice ``payer_ids`` see, driven from the payers' associations.

    For whole-set questions (the portal's list, counts, sums) this beats :func:`covered_by`,
    which would have to be tried on every invoice of the firm.
    """
    mine = _mine(payer_ids)
    # The not-nulls skip the payer's rows of other levels inside the (payer_id, target) index.
    return union(
        select(Association.invoice_id).where(mine, Association.invoice_id.is_not(None)),
        select(Invoice.id)
        .join(Association, Association.matter_id == Invoice.matter_id)
        .where(mine, Association.matter_id.is_not(None)),
        select(Invoice.id)
        .join(Association, Association.client_id == Invoice.client_id)
        .where(mine, Association.client_id.is_not(None)),
    )  # type: ignore[return-value]


MATTER_SORTS = frozenset({SortColumn.MATTER, SortColumn.DESCRIPTION})
"""Sorts by a column of the (optional) matter: walked through the matter table."""


def candidate_page(
    session: Session,
    where: CandidateFilter,
    sort: CandidateSort,
    offset: int,
    limit: int,
    payer_id: int | None = None,
) -> list[CandidateRow]:
    dialect = session.get_bind().dialect.name
    # Estimate first, then pick the plan: few matches are gathered through the lookup indexes
    # and sorted; many are found by walking the sort order.
    sort_driven = walk_sort_order(session, where, offset + limit)
    driver = None if sort_driven else driving_lookup(session, where)
    covered: ColumnElement[bool] = covered_by(payer_id) if payer_id else (Invoice.id < 0)
    conditions = candidate_conditions(dialect, where, sort_driven=sort_driven, driver=driver)
    columns = (
        Invoice.id.label("id"),  # a name the merged page's ORDER BY can refer to (SQLite)
        Invoice.client_id,
        Client.number.label("client_number"),
        Client.name.label("client_name"),
        Invoice.matter_id,
        Invoice.number,
        Invoice.invoice_date,
        Invoice.amount_cents,
        Invoice.balance_cents,
        Invoice.source,
        covered.label("covered"),
    )
    matter_columns = (
        Matter.number.label("matter_number"),
        Matter.description.label("matter_description"),
    )
    if sort.column in MATTER_SORTS and (sort_driven or not _has_lookups(where)):
        query = _merged_matter_page(columns, matter_columns, conditions, sort, offset + limit)
    else:
        order = [key.desc() if sort.descending else key.asc() for key in _SORT_KEYS[sort.column]]
        order.append(Invoice.id.desc() if sort.descending else Invoice.id.asc())
        query = (
            select(*columns, *matter_columns)
            .join(Client, Client.id == Invoice.client_id)
            .outerjoin(Matter, Matter.id == Invoice.matter_id)
            .where(*conditions)
            .order_by(*order)
        )
    return [
        CandidateRow(
            invoice_id=row.id,
            client_id=row.client_id,
            client_number=row.client_number,
            client_name=row.client_name,
            matter_id=row.matter_id,
            matter_number=row.matter_number,
            matter_description=row.matter_description,
            invoice_number=row.number,
            invoice_date=row.invoice_date,
            amount_cents=row.amount_cents,
            balance_cents=row.balance_cents,
            source=row.source,
            covered=bool(row.covered),
        )
        for row in session.execute(query.offset(offset).limit(limit))
    ]


def _merged_matter_page(
    columns: tuple[Any, ...],
    matter_columns: tuple[Any, ...],
    conditions: list[ColumnElement[bool]],
    sort: CandidateSort,
    rows: int,
) -> Any:
    """The first ``rows`` invoices with a matter, read from the matter table in its sort order,
    merged with the first ``rows`` without one, in the order of the joined query (nulls where
    each backend puts them).

    Through the outer join every match was gathered and sorted for one page (1.1-1.7 s on
    SQLite at 1,000,000 invoices): the invoice drives an outer join, so the matter's index
    cannot. A ``UNION ALL`` ordered as a whole is merged from two ordered streams; the limit
    on each makes PostgreSQL walk the matter index too (7 ms instead of a 70 ms hash join and
    sort).
    """
    [key] = _SORT_KEYS[sort.column]
    order = (key.desc(), Invoice.id.desc()) if sort.descending else (key.asc(), Invoice.id.asc())
    with_matter = (
        select(*columns, *matter_columns, key.label("sort_key"))
        .select_from(Matter)
        .join(Invoice, Invoice.matter_id == Matter.id)
        .join(Client, Client.id == Invoice.client_id)
        .where(*conditions)
        .order_by(*order)
        .limit(rows)
        .subquery()
    )
    without_matter = (
        select(
            *columns,
            *(null().label(column.name) for column in matter_columns),
            null().label("sort_key"),
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(Invoice.matter_id.is_(None), *conditions)
        .order_by(order[1])
        .limit(rows)
        .subquery()
    )
    # By result-column name: SQLite orders a compound only by its columns.
    merged: tuple[ColumnElement[Any], ...] = (literal_column("sort_key"), literal_column("id"))
    return union_all(select(with_matter), select(without_matter)).order_by(
        *(column.desc() if sort.descending else column.asc() for column in merged)
    )


def candidate_count(session: Session, where: CandidateFilter, cap: int) -> tuple[int, bool]:
    """Matching invoices counted up to ``cap``: ``(count, capped)``."""
    dialect = session.get_bind().dialect.name
    # Well over the cap: any order reaches the cap soon, so do not gather every match first
    # (PostgreSQL gathers a UNION in full; SQLite's MULTI-INDEX OR stops at the LIMIT anyway).
    walk = dialect != "sqlite" and walk_sort_order(
        session, where, cap + 1, threshold=max(BROAD_MATCH_MIN, 2 * cap)
    )
    driver = None if walk else driving_lookup(session, where)
    inner = (
        select(Invoice.id)
        .where(
            *candidate_conditions(dialect, where, sort_driven=walk, driver=driver, count_cap=cap)
        )
        .limit(cap + 1)
    )
    counted = int(session.scalar(select(func.count()).select_from(inner.subquery())) or 0)
    return min(counted, cap), counted > cap
