"""Add associations: find invoices by any of five fields, narrow with column filters, pick
rows (or everything that matches) and associate them with the payer at a chosen level.

Typed text goes to the fields; the command keys are letters that only work in the table, or
keys a field never types (``ctrl+a``, ``down``, ``escape``, ``enter``), so the keyboard works
from wherever the focus is.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Footer, Header, Input, Label, Static

from clientpay_tui.screens.base import call
from clientpay_tui.screens.candidate_table import (
    COLUMN_SORTS,
    DESCENDING_FIRST,
    LEVEL_LABELS,
    LEVELS,
    OPEN_LABELS,
    OPEN_STATES,
    SOURCES,
    CandidateSearch,
    Picked,
    candidate_columns,
    describe,
    parse_day,
)
from clientpay_tui.screens.picking import LEAVE_SEARCH_ON_ESCAPE, PickingScreen
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.associations import CreateResult, Level, Selection
from clientpay_tui.services.candidates import (
    CandidateFilter,
    CandidateRow,
    CandidateSort,
    SortColumn,
)
from clientpay_tui.services.context import Permission
from clientpay_tui.styles import stylesheet
from clientpay_tui.text import printable
from clientpay_tui.widgets.label_text import update_in_place
from clientpay_tui.widgets.paged_table import Column, PagedTable
from clientpay_tui.widgets.typed_input import TypedInput


class AddAssociationsScreen(PickingScreen[CreateResult | None, CandidateRow, CandidateFilter]):
    """Dismisses the :class:`CreateResult` after ``c``, ``None`` after ``escape``."""

    picked: Picked
    """What is selected, as the create step takes it (:meth:`Picked.selection`)."""
    CSS_PATH = stylesheet("add_associations.tcss")
    HELP_TITLE = "Add associations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Select", tooltip="Select or unselect the row, then go down"),
        # Priority: from a text field too (where ctrl+a would go to the start of the text).
        Binding(
            "ctrl+a",
            "select_all",
            "All",
            priority=True,
            tooltip="Select every invoice that matches (all pages); again to clear",
        ),
        Binding("l", "cycle_level", "Level", tooltip="Associate by invoice, matter or client"),
        Binding("c", "create", "Create", tooltip="Create the associations and go back"),
        Binding("s", "sort", "Sort", tooltip="Sort by the next column"),
        Binding("r", "reverse", "Reverse", show=False, tooltip="Reverse the sort order"),
        Binding("t", "cycle_source", "Source", show=False, tooltip="Source: all or one"),
        Binding("o", "cycle_open", "Open", show=False, tooltip="Open, paid, or both"),
        Binding(
            "slash",
            "focus_search",
            "Search",
            key_display="/",
            priority=True,
            # Not in the footer: the search box is in sight, and at 80 columns "? Help" fits
            # only without it (Help lists it).
            show=False,
            tooltip="To the search box (tab: client, matter, from, to)",
        ),
        Binding("escape", "back", "Back", tooltip="Back to the payer (creates nothing)"),
        LEAVE_SEARCH_ON_ESCAPE,
    ]
    PERMISSIONS: ClassVar[dict[str, Permission]] = {"create": Permission.MANAGE_ASSOCIATIONS}
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [
        ("↓ enter", "From a field: into the table (esc too)"),
        ("✓ / •", "Selected / already visible to this payer"),
    ]
    AUTO_FOCUS = "#search"

    def __init__(self, session: StaffSession, payer_id: int, payer_name: str) -> None:
        super().__init__(session)
        self.payer_id = payer_id
        self.payer_name = payer_name
        self.where = CandidateFilter()
        """The filter the table shows (or is loading)."""
        self.sort = CandidateSort()
        self.level = Level.INVOICE
        self.picked = Picked()
        self.errors: dict[str, str] = {}
        """A mistyped date, by field id."""
        self.range_error: str | None = None
        """From is after To: nothing can match (said, not left as an empty table)."""
        self.error_shown: str | None = None
        """What the line of filter errors shows ("": it is hidden; ``None``: not set yet)."""
        self.creating = False
        """Associations are being created (a second ``c`` waits for the first)."""
        self.table: PagedTable[CandidateRow] = PagedTable(
            self._columns(),
            id="candidates",
            empty_text="No invoice matches.",
            page_size=50,
            show_highlighted=self._show_detail,
        )

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(classes="filter-bar"):
            yield Label("Search", classes="filter-label")
            yield TypedInput(placeholder="client, matter or invoice", id="search", compact=True)
            yield Label("Client", classes="filter-label")
            yield TypedInput(placeholder="number, name", id="client", compact=True)
            yield Label("Matter", classes="filter-label")
            yield TypedInput(placeholder="number, text", id="matter", compact=True)
        with Horizontal(classes="filter-bar"):
            yield Label("From", classes="filter-label")
            yield self._day_input("date-from")
            yield Label("To", classes="filter-label")
            yield self._day_input("date-to")
            yield Label("", id="options")
        yield Static("", id="filter-error")
        yield self.table
        yield Static("", id="candidate-detail")
        with Horizontal(id="status-bar"):
            yield Label("", id="selected-count")
            yield Label("", id="match-count")
        yield Footer(compact=True)

    @staticmethod
    def _day_input(id: str) -> TypedInput:
        return TypedInput(
            placeholder="YYYY-MM-DD", id=id, compact=True, restrict=r"[0-9-]*", max_length=10
        )

    def on_mount(self) -> None:
        self.sub_title = f"Add associations for {printable(self.payer_name)}"
        self._show_options()
        self.show_selected()
        self._show_error()
        self._search()

    def _columns(self) -> list[Column[CandidateRow]]:
        return candidate_columns(self.sort, self._mark)

    def _mark(self, row: CandidateRow) -> Text:
        if self.picked.has(row.invoice_id):
            return Text("✓", style="bold")
        return Text("•", style="dim") if row.covered else Text(" ")

    # -- searching --------------------------------------------------------------------------

    def _filter_from_fields(self) -> CandidateFilter:
        def value(id: str) -> str:
            return self.query_one(f"#{id}", Input).value

        date_from, error_from = parse_day("From", value("date-from"))
        date_to, error_to = parse_day("To", value("date-to"))
        self.errors = {k: e for k, e in (("date-from", error_from), ("date-to", error_to)) if e}
        self.range_error = None
        if date_from is not None and date_to is not None and date_from > date_to:
            self.range_error = (
                f"From {date_from} is after To {date_to}: no invoice can match; swap them."
            )
        self._show_error()
        return replace(
            self.where,
            text=value("search"),
            client=value("client"),
            matter=value("matter"),
            # A date being typed (or mistyped) leaves that bound as it was.
            date_from=self.where.date_from if error_from else date_from,
            date_to=self.where.date_to if error_to else date_to,
        )

    def _show_error(self) -> None:
        # A date still being typed is not a mistake yet: complain once it is whole (ten
        # characters) or the focus has left the field.
        shown = [
            error
            for id, error in self.errors.items()
            if self.focused is not self.query_one(f"#{id}")
            or len(self.query_one(f"#{id}", Input).value) >= 10
        ]
        if self.range_error:
            shown.append(self.range_error)
        text = " ".join(shown)
        if text == self.error_shown:
            return  # unchanged (every keystroke asks): no layout of the whole screen
        self.error_shown = text
        error = self.query_one("#filter-error", Static)
        error.update(Content(text))
        error.display = bool(shown)

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self._show_error()

    def _search(self) -> None:
        """Show what the current filter and sort find (loads coalesce: a newer keystroke
        replaces the query waiting to run, and a stale result never reaches the screen)."""
        self.table.load(
            CandidateSearch(
                self.session.services, self.session.actor, self.where, self.sort, self.payer_id
            )
        )

    def _refilter(self, where: CandidateFilter) -> None:
        if where == self.where:
            return
        self.where = where
        if self.picked.matching is not None:
            # "All matching" meant the old filter: what it selects is no longer what is shown.
            self.picked = Picked(ids=self.picked.ids)
            self.toast("The filter changed: the select-all was cleared.", "warning")
            self.show_selected()
        self._search()

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        self._refilter(self._filter_from_fields())

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        self.set_focus(self.table)

    @on(PagedTable.Loaded, "#candidates")
    def _loaded(self, event: PagedTable.Loaded) -> None:
        more = "+" if event.more else ""
        noun = "invoice" if event.count == 1 and not event.more else "invoices"
        update_in_place(
            self.query_one("#match-count", Label), f"{event.count:,}{more} {noun} match"
        )

    def _show_detail(self, row: CandidateRow | None) -> None:
        """The line under the table: the highlighted invoice in full (in the rows' frame)."""
        text = "" if row is None else describe(row)
        # Two lines across the screen whatever it says: no layout of the whole screen.
        self.query_one("#candidate-detail", Static).update(Content(printable(text)), layout=False)

    # -- options ----------------------------------------------------------------------------

    def _show_options(self) -> None:
        source = "all" if not self.where.sources else ", ".join(sorted(self.where.sources))
        self.query_one("#options", Label).update(
            f"Source {source} · {OPEN_LABELS[self.where.open_only]} · "
            f"Level {LEVEL_LABELS[self.level]}"
        )

    def show_selected(self) -> None:
        self.query_one("#selected-count", Label).update(self.picked.summary())
        self.table.refresh()

    def action_cycle_source(self) -> None:
        current = next(iter(self.where.sources)) if len(self.where.sources) == 1 else None
        following = SOURCES[(SOURCES.index(current) + 1) % len(SOURCES)]
        sources = frozenset() if following is None else frozenset({following})
        self._refilter(replace(self.where, sources=sources))
        self._show_options()

    def action_cycle_open(self) -> None:
        following = OPEN_STATES[(OPEN_STATES.index(self.where.open_only) + 1) % 3]
        self._refilter(replace(self.where, open_only=following))
        self._show_options()

    def action_cycle_level(self) -> None:
        self.level = LEVELS[(LEVELS.index(self.level) + 1) % len(LEVELS)]
        self._show_options()

    def action_sort(self) -> None:
        columns = list(SortColumn)
        following = columns[(columns.index(self.sort.column) + 1) % len(columns)]
        self._resort(CandidateSort(following, following in DESCENDING_FIRST))

    @on(PagedTable.HeaderClicked, "#candidates")
    def _header_clicked(self, event: PagedTable.HeaderClicked) -> None:
        """A click on a column's header sorts by it; a second click reverses the order."""
        column = COLUMN_SORTS[event.column]
        if column is None:
            return
        if column == self.sort.column:
            self.action_reverse()
        else:
            self._resort(CandidateSort(column, column in DESCENDING_FIRST))

    def action_reverse(self) -> None:
        self._resort(replace(self.sort, descending=not self.sort.descending))

    def _resort(self, sort: CandidateSort) -> None:
        self.sort = sort
        self.table.columns = self._columns()
        self.table.refresh()
        self._search()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_search" and isinstance(self.focused, Input):
            return False  # "/" is typed into the field like any character
        return super().check_action(action, parameters)

    def action_focus_search(self) -> None:
        self.set_focus(self.query_one("#search", Input))

    # -- selecting --------------------------------------------------------------------------

    def picked_id(self, row: CandidateRow) -> int:
        return row.invoice_id

    def picking_query(self) -> CandidateFilter:
        return self.where

    def count_matching(self, query: CandidateFilter) -> int:
        associations = self.session.services.associations
        return associations.count_candidates(self.session.actor, query, 10**12)[0]

    # -- leaving ----------------------------------------------------------------------------

    def action_create(self) -> None:
        # A second "c" must not start (or cancel) another create: the first transaction
        # commits either way, and a second would report everything as skipped.
        if self.refuse("create") or self.creating:
            return
        if self.picked.matching is None and not self.picked.ids:
            self.toast("Select invoices first: space selects a row, ctrl+a all that match.")
            return
        if self.picked.matching is not None and self.picked.matching_count == 0:
            self.toast("No invoice matches: nothing to associate.", "warning")
            return
        self.creating = True
        self.query_one("#selected-count", Label).update(f"{self.picked.summary()}: creating…")
        self._create(self.level, self.picked.selection())

    @work(group="create", exit_on_error=False)
    async def _create(self, level: Level, selection: Selection) -> None:
        try:
            result = await call(
                self.session.services.associations.create,
                self.session.actor,
                self.payer_id,
                level,
                selection,
            )
        finally:
            self.creating = False
            self.show_selected()
        self.toast(result.message())
        self.dismiss(result)

    def action_back(self) -> None:
        self.dismiss(None)
