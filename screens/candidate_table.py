"""The add-associations screen's table: where its rows come from, what is selected, its
columns, and reading the date filters. No widgets here: the screen puts them together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rich.text import Text

from clientpay_tui.enums import InvoiceSource
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.candidates import (
    CandidateFilter,
    CandidateRow,
    CandidateSort,
    SortColumn,
)
from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from clientpay_tui.widgets.formatting import money
from clientpay_tui.widgets.paged_table import Column

SOURCES: list[InvoiceSource | None] = [None, *InvoiceSource]
"""What ``t`` cycles through: every source, then each one alone."""
OPEN_STATES: list[bool | None] = [None, True, False]
OPEN_LABELS = {None: "open+paid", True: "open", False: "paid"}
LEVELS = [Level.INVOICE, Level.MATTER, Level.CLIENT]
LEVEL_LABELS = {Level.INVOICE: "invoice", Level.MATTER: "matter", Level.CLIENT: "whole client"}
DESCENDING_FIRST = frozenset({SortColumn.DATE, SortColumn.AMOUNT, SortColumn.BALANCE})
"""Dates and money read best largest first; names and numbers from A."""
COLUMN_SORTS: list[SortColumn | None] = [
    None,  # the selection marks
    SortColumn.CLIENT,
    SortColumn.MATTER,
    SortColumn.DESCRIPTION,
    SortColumn.INVOICE,
    SortColumn.DATE,
    SortColumn.AMOUNT,
    SortColumn.BALANCE,
    SortColumn.SOURCE,
]
"""What each column of :func:`candidate_columns` sorts by (a click on its header)."""
COUNT_CAP = 10_000
"""The table's row count is exact up to this many; select-all counts them all."""


@dataclass(frozen=True)
class CandidateSearch:
    """A :class:`RowSource` of the invoices matching one filter, in one order."""

    services: Services
    actor: Actor
    where: CandidateFilter
    sort: CandidateSort
    payer_id: int

    def count(self) -> tuple[int, bool]:
        return self.services.associations.count_candidates(self.actor, self.where, COUNT_CAP)

    def fetch(self, offset: int, limit: int) -> Sequence[CandidateRow]:
        return self.services.associations.candidates(
            self.actor, self.where, self.sort, offset, limit, self.payer_id
        )


@dataclass(frozen=True)
class Picked:
    """What is selected: rows picked one by one, or every row of a filter but some."""

    ids: frozenset[int] = frozenset()
    matching: CandidateFilter | None = None
    matching_count: int | None = None
    """How many rows ``matching`` selects (``None`` while it is being counted)."""
    excluded: frozenset[int] = frozenset()

    def has(self, invoice_id: int) -> bool:
        if self.matching is not None:
            return invoice_id not in self.excluded
        return invoice_id in self.ids

    def toggled(self, invoice_id: int) -> Picked:
        if self.matching is not None:
            return replace(self, excluded=self.excluded ^ {invoice_id})
        return replace(self, ids=self.ids ^ {invoice_id})

    def selection(self) -> Selection:
        if self.matching is not None:
            return Selection(matching=self.matching, excluded=self.excluded)
        return Selection(invoice_ids=self.ids)

    def summary(self) -> str:
        if self.matching is None:
            return f"{len(self.ids):,} selected"
        if self.matching_count is None:
            return "All matching selected (counting…)"
        return f"{max(self.matching_count - len(self.excluded), 0):,} selected (all matching)"


def parse_day(label: str, value: str) -> tuple[date | None, str | None]:
    """``(date, None)`` for an ISO date or an empty field; ``(None, error)`` otherwise."""
    value = value.strip()
    if not value:
        return None, None
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, f"{label}: {value!r} is not a date; type it as YYYY-MM-DD."


def describe(row: CandidateRow) -> str:
    """The highlighted row in full, for what the columns cut short."""
    matter = f" · {row.matter_number} {row.matter_description or ''}" if row.matter_number else ""
    covered = " · already visible to this payer" if row.covered else ""
    return (
        f"{row.client_number} {row.client_name}{matter} · {row.invoice_number} "
        f"{row.invoice_date:%Y-%m-%d} · {money(row.balance_cents)} of "
        f"{money(row.amount_cents)} open · {row.source.value}{covered}"
    )


def candidate_columns(
    sort: CandidateSort, mark: Callable[[CandidateRow], Text]
) -> list[Column[CandidateRow]]:
    """The table's columns, the sorted one's label marked ▼ (descending) or ▲.

    The mark comes first: at 80 columns the client, matter and description labels are cut
    short, and a mark at their end was cut with them."""

    def label(column: SortColumn, text: str) -> str:
        if column != sort.column:
            return text
        return f"{'▼' if sort.descending else '▲'}{text}"

    # 80 columns hold every field only with the long ones cut short: the line under the
    # table shows the highlighted invoice in full.
    return [
        Column("", mark, width=1),
        Column(label(SortColumn.CLIENT, "Client"), _client, ratio=2),
        Column(label(SortColumn.MATTER, "Matter"), lambda r: r.matter_number or "", ratio=2),
        Column(
            label(SortColumn.DESCRIPTION, "Description"),
            lambda r: r.matter_description or "",
            ratio=2,
        ),
        # Last of the flexible columns: it gets the leftovers, and invoice numbers are
        # what is being picked.
        Column(label(SortColumn.INVOICE, "Invoice"), lambda r: r.invoice_number, ratio=4),
        Column(label(SortColumn.DATE, "Date"), lambda r: _iso(r.invoice_date), width=10),
        Column(
            label(SortColumn.AMOUNT, "Amount"),
            lambda r: money(r.amount_cents),
            width=9,
            justify="right",
        ),
        Column(
            label(SortColumn.BALANCE, "Balance"),
            lambda r: money(r.balance_cents),
            width=9,
            justify="right",
        ),
        Column(label(SortColumn.SOURCE, "Source"), lambda r: r.source.value, width=8),
    ]


def _iso(value: date) -> str:
    return f"{value:%Y-%m-%d}"


def _client(row: CandidateRow) -> str:
    return f"{row.client_number} {row.client_name}"
