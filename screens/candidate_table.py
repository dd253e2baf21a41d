"""The add-associations screen's table: where its rows come from, what is selected, its
columns, and reading the date filters. No widgets here: the screen puts them together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from rich.text import Text

from clientpay_tui.enums import InvoiceSource
from clientpay_tui.screens import picked
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.candidates import (
    CandidateFilter,
    CandidateRow,
    CandidateSort,
    SortColumn,
)
from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from clientpay_tui.widgets.formatting import day, money
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


class Picked(picked.Picked[CandidateFilter]):
    """What is selected on the add screen: invoices picked one by one, or every invoice of a
    filter but some."""

    def selection(self) -> Selection:
        if self.matching is not None:
            return Selection(matching=self.matching, excluded=self.excluded)
        return Selection(invoice_ids=self.ids)


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
        f"{day(row.invoice_date)} · {money(row.balance_cents)} of "
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

    # The names are what people pick by, so they get the room: at 80 columns the source and
    # then the amount give way (the line under the table shows the highlighted invoice in
    # full), and on a wide terminal the extra width goes to the client and the description.
    return [
        Column("", mark, width=1),
        Column(label(SortColumn.CLIENT, "Client"), _client, ratio=3, min_width=16),
        Column(
            label(SortColumn.MATTER, "Matter"),
            lambda r: r.matter_number or "",
            ratio=1,
            min_width=9,
        ),
        Column(
            label(SortColumn.DESCRIPTION, "Description"),
            lambda r: r.matter_description or "",
            ratio=3,
            min_width=12,
        ),
        Column(label(SortColumn.INVOICE, "Invoice"), lambda r: r.invoice_number, width=12),
        Column(label(SortColumn.DATE, "Date"), lambda r: day(r.invoice_date), width=10),
        Column(
            label(SortColumn.AMOUNT, "Amount"),
            lambda r: money(r.amount_cents),
            width=9,
            justify="right",
            give_way=2,
        ),
        Column(
            label(SortColumn.BALANCE, "Balance"),
            lambda r: money(r.balance_cents),
            width=9,
            justify="right",
        ),
        Column(label(SortColumn.SOURCE, "Source"), lambda r: r.source.value, width=8, give_way=1),
    ]


def _client(row: CandidateRow) -> str:
    return f"{row.client_number} {row.client_name}"
