"""Home: every payer, searched as you type, paged from the database."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Footer, Header, Input, Label, ProgressBar

from clientpay_tui.early_settings import data_dir
from clientpay_tui.messages import DataChanged, OpenPayer
from clientpay_tui.screens.bulk_flow import BulkDone, BulkStep
from clientpay_tui.screens.bulk_runner import BulkRunner
from clientpay_tui.screens.mail import MailScreen
from clientpay_tui.screens.payer_form import NewPayerScreen
from clientpay_tui.screens.payer_rows import PayerRows, PayerTable, payer_columns
from clientpay_tui.screens.picked import Picked
from clientpay_tui.screens.picking import LEAVE_SEARCH_ON_ESCAPE, PickingScreen
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.bulk_access import BulkAction, PayerQuery, PayerSelection
from clientpay_tui.services.context import Permission
from clientpay_tui.services.payer_search import PayerRow
from clientpay_tui.services.payers import StatusFilter
from clientpay_tui.styles import stylesheet
from clientpay_tui.widgets.label_text import update_in_place
from clientpay_tui.widgets.paged_table import PagedTable
from clientpay_tui.widgets.typed_input import TypedInput

FILTER_HELP = {
    StatusFilter.ALL: "Every payer, whatever their login",
    StatusFilter.NO_LOGIN: "Payers without a portal login",
    StatusFilter.INVITED: "Invited, not accepted yet (expired links too)",
    StatusFilter.INVITE_EXPIRED: "Invited, and the welcome link no longer works",
    StatusFilter.ACTIVE: "Accepted the invitation and may sign in",
    StatusFilter.LOCKED: "Locked after failed portal sign-ins",
    StatusFilter.EMAIL_FAILED: "The latest access email could not be sent",
}


def _new_file(folder: Path, stem: str, suffix: str) -> Path:
    """``folder/stem.suffix``, or ``stem-2`` and on if that exists (two exports a second)."""
    path, n = folder / f"{stem}{suffix}", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}{suffix}"
    return path


class PayerListScreen(PickingScreen[None, PayerRow, PayerQuery]):
    """The payer table with a search box; ``enter`` opens the highlighted payer."""

    CSS_PATH = stylesheet("payer_list.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority: keys typed right after "/" (fast typists, a laggy SSH link) must reach
        # the search box, so the focus moves before they are dispatched.
        Binding("slash", "focus_search", "Search", key_display="/", priority=True),
        Binding("enter", "open", "Open payer"),
        Binding("n", "new_payer", "New payer"),
        Binding("m", "mail", "Mail"),
        Binding(
            "e",
            "export",
            "Export",
            tooltip="Export the access review of the selection, or of this search and filter (CSV)",
        ),
        Binding("f", "cycle_filter", "Filter", tooltip="Filter by login status: the next one"),
        # Not in the footer (80 columns): Help and the palette list them, and the bar under
        # the table names g, r and ctrl+a once something is selected.
        Binding(
            "space",
            "toggle",
            "Select",
            show=False,
            tooltip="Select or unselect the payer, then go down",
        ),
        # Priority: from the search box too (where ctrl+a would go to the start of the text).
        Binding(
            "ctrl+a",
            "select_all",
            "All",
            priority=True,
            show=False,
            tooltip="Select every payer the search and filter find (all pages); again to clear",
        ),
        Binding(
            "g",
            "bulk('grant')",
            "Grant",
            show=False,
            tooltip="Grant login access to the selected payers",
        ),
        Binding(
            "r",
            "bulk('resend')",
            "Re-send",
            show=False,
            tooltip="Re-send the expired invitations among the selected payers",
        ),
        Binding("escape", "stop_bulk", "Stop", tooltip="Stop the bulk run after this payer"),
        LEAVE_SEARCH_ON_ESCAPE,
    ]
    PERMISSIONS: ClassVar[dict[str, Permission]] = {
        "new_payer": Permission.EDIT_PAYERS,
        "bulk": Permission.SEND_RESET,  # and grant access for "g": the service says so
    }
    HELP_TITLE = "Payer list"
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [
        ("↑ ↓", "Move in the table (↓ from the search box moves into it)"),
        ("PgUp PgDn", "A page up or down; Home / End: first / last payer"),
        ("escape", "From the search box: back to the table"),
        ("✓", "A selected payer (space, ctrl+a); g and r act on the selection"),
    ]
    AUTO_FOCUS = "#payers"

    def __init__(self, session: StaffSession) -> None:
        super().__init__(session)
        self.searched = ""
        self.status = StatusFilter.ALL
        """The login status the list is filtered by."""
        self.picked: Picked[PayerQuery] = Picked()
        self.bulk = BulkRunner(self)
        self.table = PayerTable(
            payer_columns(self._mark),
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
            yield Label("", id="status-filter")
            yield Label("", id="payer-count")
        yield self.table
        with Horizontal(id="bulk-bar"):
            yield Label("", id="selected-count")
            yield ProgressBar(id="bulk-progress", show_eta=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._show_filter()
        self.search("")

    def search(self, text: str) -> None:
        """Show the payers matching ``text`` (the table coalesces fast typing)."""
        self.searched = text
        if self.picked.matching not in (None, self.shown_query):
            # "All matching" meant the old search: what it selects is no longer what is shown.
            self.picked = Picked()
            self.toast("The search or filter changed: the select-all was cleared.", "warning")
            self.show_selected()
        self.table.load(PayerRows(self.session.services, self.session.actor, text, self.status))

    def set_filter(self, status: StatusFilter) -> None:
        """Show only the payers whose login is in ``status`` (with the current search)."""
        self.status = status
        self._show_filter()
        self.search(self.searched)

    def action_cycle_filter(self) -> None:
        self.set_filter(self.status.next())

    @property
    def shown_query(self) -> PayerQuery:
        """What the table shows now: the search text and the status filter."""
        return PayerQuery(self.searched, self.status)

    # -- selecting ---------------------------------------------------------------------------

    def _mark(self, row: PayerRow) -> Text:
        return Text("✓", style="bold") if self.picked.has(row.id) else Text(" ")

    def picked_id(self, row: PayerRow) -> int:
        return row.id

    def picking_query(self) -> PayerQuery:
        return self.shown_query

    def count_matching(self, query: PayerQuery) -> int:
        payers = self.session.services.payers
        return payers.count(self.session.actor, query.text, 10**12, query.status)[0]

    def show_selected(self) -> None:
        """The selection's size in the bar under the table, and the marks in the table."""
        bar = self.query_one("#bulk-bar")
        bar.set_class(not self.picked.is_empty or self.bulk.running, "-shown")
        if not self.bulk.running:
            again = "clears" if self.picked.matching is not None else "selects all"
            keys = f" · g grant · r re-send expired · ctrl+a {again}"
            text = "" if self.picked.is_empty else self.picked.summary() + keys
            self.query_one("#selected-count", Label).update(Content(text))
        self.table.refresh()

    def action_bulk(self, action: str) -> None:
        self.bulk.start(BulkAction(action))

    def action_stop_bulk(self) -> None:
        self.bulk.stop()

    def _show_filter(self) -> None:
        label = self.query_one("#status-filter", Label)
        label.update(Content(f"Login: {self.status.value}"))
        label.set_class(self.status != StatusFilter.ALL, "-filtered")

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        return [
            (f"Filter: {status.value}", FILTER_HELP[status], partial(self.set_filter, status))
            for status in StatusFilter
        ]

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
        update_in_place(self.query_one("#payer-count", Label), f"{event.count:,}{more} {noun}")

    @on(PagedTable.RowSelected, "#payers")
    def _selected(self, event: PagedTable.RowSelected) -> None:
        self._open(cast(PayerRow, event.row))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and isinstance(self.focused, Input):
            return False  # "/" is typed into the search box like any character
        if action == "stop_bulk":
            return self.bulk.running  # escape means "stop" only while a run goes
        return super().check_action(action, parameters)

    def denial(self, action: str) -> str | None:
        if action == "bulk" and self.session.can(Permission.SEND_RESET):
            return None  # grant is refused by the service with its reason (agents re-send)
        return super().denial(action)

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
        self.app.post_message(OpenPayer(row.id))

    def action_new_payer(self) -> None:
        if self.refuse("new_payer"):
            return
        self.app.push_screen(NewPayerScreen(self.session), self._created)

    def _created(self, payer_id: int | None) -> None:
        if payer_id is not None:
            self.app.post_message(OpenPayer(payer_id))

    def action_export(self) -> None:
        """The access review of what the list shows (search and filter), or of the selected
        payers, as CSV in the data folder."""
        stamp = f"{self.session.services.ctx.clock():%Y%m%d-%H%M%S}"
        picked = self.picked
        if picked.is_empty:
            scope = PayerSelection(matching=self.shown_query)
        else:
            scope = PayerSelection(picked.ids, picked.matching, picked.excluded)
        self._export(scope, "selected " if not picked.is_empty else "", stamp)

    @work(thread=True, group="export", exit_on_error=False)
    def _export(self, scope: PayerSelection, what: str, stamp: str) -> None:
        path = _new_file(data_dir() / "exports", f"access-review-{stamp}", ".csv")
        review = self.session.services.access_review
        count = review.export_to_file(self.session.actor, path, "csv", selection=scope)
        noun = "payer" if count == 1 else "payers"
        self.app.call_from_thread(
            self.toast, f"Access review of {count:,} {what}{noun} saved to {path}"
        )

    def action_mail(self) -> None:
        self.app.push_screen(MailScreen(self.session))

    def on_screen_resume(self) -> None:
        # A payer may have changed on a screen above: show its new status.
        self.refresh_rows()
        self.bulk.show_pending_summary()

    @on(BulkStep)
    def _bulk_step(self, event: BulkStep) -> None:
        self.bulk.step(event.progress)

    @on(BulkDone)
    def _bulk_done(self, event: BulkDone) -> None:
        self.bulk.done(event.result)

    def on_data_changed(self, message: DataChanged) -> None:
        # Another session, the portal or the mailer changed what the rows show. Hidden
        # under another screen, the list reloads when it is shown again (above); during a
        # bulk run, whose own grants and emails change it hundreds of times, when the run
        # ends (a reload every quarter second shared the machine with the run).
        if self.bulk.running:
            return
        if self.is_current and message.changes.touches_kind("payer", "login", "outbox"):
            self.refresh_rows()
