"""Home: every payer, searched as you type, paged from the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Label

from clientpay_tui.early_settings import data_dir
from clientpay_tui.messages import DataChanged
from clientpay_tui.screens.base import ClientPayScreen
from clientpay_tui.screens.mail import MailScreen
from clientpay_tui.screens.payer_form import NewPayerScreen
from clientpay_tui.screens.session import PayerOpener, StaffSession
from clientpay_tui.services.context import Actor, Permission
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import AccessStatus, PayerRow
from clientpay_tui.styles import stylesheet
from clientpay_tui.widgets.paged_table import Column, PagedTable
from clientpay_tui.widgets.typed_input import TypedInput

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


PAYER_COLUMNS: list[Column[PayerRow]] = [
    Column("Name", lambda row: row.name, ratio=3),
    Column("Email", lambda row: row.email or "", ratio=4),
    Column("Login", lambda row: status_cell(row.status), width=12),
    Column("Last email sent", lambda row: when(row.last_email_at), width=16),
]


@dataclass(frozen=True)
class PayerSearch:
    """A :class:`RowSource` of the payers matching one search text."""

    services: Services
    actor: Actor
    text: str

    def count(self) -> tuple[int, bool]:
        return self.services.payers.count(self.actor, self.text)

    def fetch(self, offset: int, limit: int) -> Sequence[PayerRow]:
        return self.services.payers.search(self.actor, self.text, offset, limit)


class PayerTable(PagedTable[PayerRow]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "select", "Open payer")]


class PayerListScreen(ClientPayScreen[None]):
    """The payer table with a search box; ``enter`` opens the highlighted payer."""

    CSS_PATH = stylesheet("payer_list.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: keys typed right after "/" (fast typists, a laggy SSH link) must reach
        # the search box, so the focus moves before they are dispatched.
        Binding("slash", "focus_search", "Search", key_display="/", priority=True),
        Binding("enter", "open", "Open payer"),
        Binding("n", "new_payer", "New payer"),
        Binding("m", "mail", "Mail"),
        Binding("e", "export", "Export", tooltip="Export the access review of this search (CSV)"),
    ]
    PERMISSIONS: ClassVar[dict[str, Permission]] = {"new_payer": Permission.EDIT_PAYERS}
    HELP_TITLE = "Payer list"
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [
        ("↑ ↓", "Move in the table (↓ from the search box moves into it)"),
        ("PgUp PgDn", "A page up or down; Home / End: first / last payer"),
        ("escape", "From the search box: back to the table"),
    ]
    AUTO_FOCUS = "#payers"

    def __init__(self, session: StaffSession) -> None:
        super().__init__(session)
        self.searched = ""
        self.table = PayerTable(
            PAYER_COLUMNS,
            id="payers",
            empty_text="No payer matches.",
            page_size=50,
            row_key=lambda row: row.id,
        )

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Label("Search", id="search-label")
            yield TypedInput(placeholder="name, email or client number", id="search", compact=True)
            yield Label("", id="payer-count")
        yield self.table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.search("")

    def search(self, text: str) -> None:
        """Show the payers matching ``text`` (the table coalesces fast typing)."""
        self.searched = text
        self.table.load(PayerSearch(self.session.services, self.session.actor, text))

    def refresh_rows(self) -> None:
        """Fetch the visible rows again (after a payer changed elsewhere)."""
        self.table.reload()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search(event.value)

    @on(Input.Submitted, "#search")
    async def _search_submitted(self, event: Input.Submitted) -> None:
        # Enter straight after typing: open what this text finds, not the previous rows.
        if event.value != self.searched:
            self.search(event.value)
        await self.action_open()

    @on(PagedTable.Loaded, "#payers")
    def _loaded(self, event: PagedTable.Loaded) -> None:
        noun = "payer" if event.count == 1 and not event.more else "payers"
        more = "+" if event.more else ""
        self.query_one("#payer-count", Label).update(f"{event.count:,}{more} {noun}")

    @on(PagedTable.RowSelected, "#payers")
    def _selected(self, event: PagedTable.RowSelected) -> None:
        self._open(cast(PayerRow, event.row))

    def on_key(self, event: Any) -> None:
        search = self.query_one("#search", Input)
        if self.focused is search and event.key in ("down", "escape"):
            event.stop()
            self.set_focus(self.table)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and isinstance(self.focused, Input):
            return False  # "/" is typed into the search box like any character
        return super().check_action(action, parameters)

    def action_focus_search(self) -> None:
        # Focus now, not after a refresh (Widget.focus): typed-ahead keys must land in it.
        self.set_focus(self.query_one("#search", Input))

    async def action_open(self) -> None:
        await self.table.wait_loaded()
        row = self.table.highlighted
        if row is None:
            self.toast("No payer is highlighted.", "warning")
            return
        self._open(row)

    def _open(self, row: PayerRow) -> None:
        # Back from the payer, continue in the table (where the letter keys work), even if
        # the payer was opened from the search box.
        self.set_focus(self.table)
        cast(PayerOpener, self.app).open_payer(row.id)

    def action_new_payer(self) -> None:
        if self.refuse("new_payer"):
            return
        self.app.push_screen(NewPayerScreen(self.session), self._created)

    def _created(self, payer_id: int | None) -> None:
        if payer_id is not None:
            cast(PayerOpener, self.app).open_payer(payer_id)

    def action_export(self) -> None:
        """The access review of the payers this search finds, as CSV in the data folder."""
        stamp = f"{self.session.services.ctx.clock():%Y%m%d-%H%M%S}"
        self._export(self.searched, data_dir() / "exports" / f"access-review-{stamp}.csv")

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, text: str, path: Path) -> None:
        review = self.session.services.access_review
        count = review.export_to_file(self.session.actor, path, "csv", text=text)
        noun = "payer" if count == 1 else "payers"
        self.app.call_from_thread(self.toast, f"Access review of {count:,} {noun} saved to {path}")

    def action_mail(self) -> None:
        self.app.push_screen(MailScreen(self.session))

    def on_screen_resume(self) -> None:
        # A payer may have changed on a screen above: show its new status.
        self.refresh_rows()

    def on_data_changed(self, message: DataChanged) -> None:
        # Another session, the portal or the mailer changed what the rows show. Hidden
        # under another screen, the list reloads when it is shown again (above).
        if self.is_current and message.changes.touches_kind("payer", "login", "outbox"):
            self.refresh_rows()
