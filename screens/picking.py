"""Selecting rows of a screen's table: ``space`` picks the highlighted row and moves on (as file
managers do), ``ctrl+a`` selects every row the screen's query finds, on every page (counted in
a worker), or clears that; ``down`` or ``escape`` in a search field goes to the table. The
payer list and the add-associations screen share it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Generic, TypeVar

from textual import work
from textual.binding import Binding, BindingType
from textual.widgets import Input

from clientpay_tui.screens.base import ClientPayScreen, ResultT, call
from clientpay_tui.screens.picked import Picked
from clientpay_tui.widgets.paged_table import PagedTable

RowT = TypeVar("RowT")
QueryT = TypeVar("QueryT")


LEAVE_SEARCH_ON_ESCAPE = Binding(
    "escape",
    "leave_search",
    "Table",
    priority=True,
    tooltip="From a search field: to the table (down too)",
)
"""``escape`` in a search field: to the table (the footer says so there; elsewhere the screen's
own ``escape`` shows). A screen that binds ``escape`` itself lists this beside its own binding:
Textual keeps a subclass's bindings of a key instead of its base's."""


class PickingScreen(ClientPayScreen[ResultT], Generic[ResultT, RowT, QueryT]):
    """A screen whose ``table`` rows are picked into ``picked``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        # Priority bindings act as the key is read, so a key right behind (space, in the same
        # instant or the same packet over SSH) already goes to the table. Moved from the
        # search field's own key event, the focus changed too late: the space went into the
        # search field and nothing was selected.
        Binding("down", "leave_search", show=False, priority=True),
        LEAVE_SEARCH_ON_ESCAPE,
    ]

    picked: Picked[QueryT]
    table: PagedTable[RowT]

    # -- what the screen says -------------------------------------------------------------

    def picked_id(self, row: RowT) -> int:
        """The id a row is picked by."""
        raise NotImplementedError

    def picking_query(self) -> QueryT:
        """What the table shows now: the query ``ctrl+a`` selects every row of."""
        raise NotImplementedError

    def count_matching(self, query: QueryT) -> int:
        """How many rows ``query`` finds (blocking: run in a worker thread)."""
        raise NotImplementedError

    def show_selected(self) -> None:
        """The selection's size on screen, and the marks in the table."""
        raise NotImplementedError

    # -- keys -----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[Any, ...]) -> bool | None:
        if action == "leave_search":
            return isinstance(self.focused, Input)  # elsewhere the key does what it does
        return super().check_action(action, parameters)

    def action_leave_search(self) -> None:
        self.set_focus(self.table)

    # Replaces DOMNode's generic action_toggle(attribute) on these screens on purpose: "toggle"
    # is the space key's action here.
    def action_toggle(self) -> None:  # type: ignore[override]
        row = self.table.highlighted
        if row is None:
            return
        self.picked = self.picked.toggled(self.picked_id(row))
        self.show_selected()
        self.table.action_cursor(1)  # on to the next row, as file managers do

    def action_select_all(self) -> None:
        kind = type(self.picked)  # the screen's own kind of Picked
        if self.picked.matching is not None:
            self.picked = kind()
        else:
            query = self.picking_query()
            self.picked = kind(matching=query)
            self._count_all(query)
        self.show_selected()

    @work(group="count-all", exclusive=True, exit_on_error=False)
    async def _count_all(self, query: QueryT) -> None:
        count = await call(self.count_matching, query)
        if self.picked.matching == query and self.picked.matching_count is None:
            self.picked = replace(self.picked, matching_count=count)
            self.show_selected()
