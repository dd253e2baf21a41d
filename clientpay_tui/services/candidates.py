"""Candidate invoices for associations: search over five fields, column filters, paging.

The search text matches Client Name or Matter Description by substring, and Client Number,
Matter Number or Invoice Number by prefix, all case-insensitively. ``%`` and ``_`` are literal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Association, Client, Invoice, InvoiceSource, Matter
from clientpay_tui.db.search_index import contains, prefix_range
from clientpay_tui.services.validation import search_key


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


def _client_ids(dialect: str, key: str) -> Select[tuple[int]]:
    return select(Client.id).where(
        or_(
            prefix_range(Client.number_key, key),
            contains(dialect, Client.id, [Client.name_key], key),
        )
    )


def _matter_ids(dialect: str, key: str) -> Select[tuple[int]]:
    return select(Matter.id).where(
        or_(
            prefix_range(Matter.number_key, key),
            contains(dialect, Matter.id, [Matter.description_key], key),
        )
    )


def candidate_conditions(dialect: str, where: CandidateFilter) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Invoice`` for a filter (no joins needed)."""
    conditions: list[ColumnElement[bool]] = []
    key = search_key(where.text)
    if key:
        conditions.append(
            or_(
                Invoice.client_id.in_(_client_ids(dialect, key)),
                Invoice.matter_id.in_(_matter_ids(dialect, key)),
                prefix_range(Invoice.number_key, key),
            )
        )
    client_key = search_key(where.client)
    if client_key:
        conditions.append(Invoice.client_id.in_(_client_ids(dialect, client_key)))
    matter_key = search_key(where.matter)
    if matter_key:
        conditions.append(Invoice.matter_id.in_(_matter_ids(dialect, matter_key)))
    if where.sources:
        conditions.append(Invoice.source.in_(sorted(where.sources)))
    if where.open_only is True:
        conditions.append(Invoice.balance_cents > 0)
    elif where.open_only is False:
        conditions.append(Invoice.balance_cents == 0)
    if where.date_from is not None:
        conditions.append(Invoice.invoice_date >= where.date_from)
    if where.date_to is not None:
        conditions.append(Invoice.invoice_date <= where.date_to)
    return conditions


def covered_by(payer_id: int) -> ColumnElement[bool]:
    """The invoice is visible to ``payer_id`` through any association level."""
    return exists(
        select(Association.id).where(
            Association.payer_id == payer_id,
            or_(
                Association.invoice_id == Invoice.id,
                and_(Invoice.matter_id.is_not(None), Association.matter_id == Invoice.matter_id),
                Association.client_id == Invoice.client_id,
            ),
        )
    )


def candidate_page(
    session: Session,
    where: CandidateFilter,
    sort: CandidateSort,
    offset: int,
    limit: int,
    payer_id: int | None = None,
) -> list[CandidateRow]:
    dialect = session.get_bind().dialect.name
    covered: ColumnElement[bool] = covered_by(payer_id) if payer_id else (Invoice.id < 0)
    order = [key.desc() if sort.descending else key.asc() for key in _SORT_KEYS[sort.column]]
    order.append(Invoice.id.desc() if sort.descending else Invoice.id.asc())
    query = (
        select(
            Invoice.id,
            Invoice.client_id,
            Client.number.label("client_number"),
            Client.name.label("client_name"),
            Invoice.matter_id,
            Matter.number.label("matter_number"),
            Matter.description.label("matter_description"),
            Invoice.number,
            Invoice.invoice_date,
            Invoice.amount_cents,
            Invoice.balance_cents,
            Invoice.source,
            covered.label("covered"),
        )
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(Matter, Matter.id == Invoice.matter_id)
        .where(*candidate_conditions(dialect, where))
        .order_by(*order)
        .offset(offset)
        .limit(limit)
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
        for row in session.execute(query)
    ]


def candidate_count(session: Session, where: CandidateFilter, cap: int) -> tuple[int, bool]:
    """Matching invoices counted up to ``cap``: ``(count, capped)``."""
    dialect = session.get_bind().dialect.name
    inner = select(Invoice.id).where(*candidate_conditions(dialect, where)).limit(cap + 1)
    counted = int(session.scalar(select(func.count()).select_from(inner.subquery())) or 0)
    return min(counted, cap), counted > cap
