"""The payer list's rows: where they come from (a search as a row source) and their columns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType

from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payer_search import PayerRow
from clientpay_tui.services.payers import AccessStatus, StatusFilter
from clientpay_tui.widgets.paged_table import Column, PagedTable

STATUS_STYLE = {
    AccessStatus.NONE: "dim",
    AccessStatus.INVITED: "",
    AccessStatus.ACTIVE: "bold",
    AccessStatus.LOCKED: "reverse",
    AccessStatus.EMAIL_FAILED: "bold reverse",
}
"""Styles that read without colour too (NO_COLOR, monochrome terminals)."""


def when(value: datetime | None) -> str:
    """A timestamp for a table cell (UTC, like every time the app shows)."""
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def status_cell(status: AccessStatus) -> Text:
    return Text(status.value, style=STATUS_STYLE[status])


def payer_columns(mark: Callable[[PayerRow], Text]) -> list[Column[PayerRow]]:
    """The table's columns, after ``mark`` (✓ on a selected payer)."""
    return [
        Column("", mark, width=1),
        Column("Name", lambda row: row.name, ratio=3),
        Column("Email", lambda row: row.email or "", ratio=4),
        Column("Login", lambda row: status_cell(row.status), width=12),
        Column("Last email sent", lambda row: when(row.last_email_at), width=16),
    ]


@dataclass(frozen=True)
class PayerRows:
    """A :class:`RowSource` of the payers matching one search text and status filter."""

    services: Services
    actor: Actor
    text: str
    status: StatusFilter = StatusFilter.ALL

    def count(self) -> tuple[int, bool]:
        return self.services.payers.count(self.actor, self.text, status=self.status)

    def fetch(self, offset: int, limit: int) -> Sequence[PayerRow]:
        return self.services.payers.search(self.actor, self.text, offset, limit, self.status)


class PayerTable(PagedTable[PayerRow]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open payer")]
