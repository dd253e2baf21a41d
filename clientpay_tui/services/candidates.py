"""Candidate invoices for associations: search over five fields, column filters, paging.

The search text matches Client Name, Matter Description or Invoice Number by substring (accents
aside: ``elodie`` finds ``Élodie``), and Client Number or Matter Number by prefix, all
case-insensitively. ``%`` and ``_`` are literal.

How a search is planned and written as SQL is :mod:`.candidate_plans`; which invoices a payer
already sees is :mod:`.invoice_visibility`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Client, Invoice, InvoiceSource, Matter
from clientpay_tui.services.candidate_plans import (
    BROAD_MATCH_MIN,
    candidate_conditions,
    driving_lookup,
    has_lookups,
    walk_sort_order,
)
from clientpay_tui.services.invoice_visibility import covered_by


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
    if sort.column in MATTER_SORTS and (sort_driven or not has_lookups(where)):
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

    Through the outer join every match was gathered and sorted for one page: the invoice
    drives an outer join, so the matter's index cannot. A ``UNION ALL`` ordered as a whole is
    merged from two ordered streams; the limit on each makes PostgreSQL walk the matter index
    too (instead of a hash join and a sort).
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
