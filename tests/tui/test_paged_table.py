"""PagedTable: the next search's rows do not wait for the previous search's count, and that
count is stopped rather than left running."""

from __future__ import annotations

import threading

import pytest
from textual.app import App, ComposeResult

from clientpay_tui.db.engine import Database
from clientpay_tui.errors import DatabaseError, QueryInterrupted
from clientpay_tui.widgets import paged_loading
from clientpay_tui.widgets.paged_table import Column, PagedTable
from clientpay_tui.widgets.textual_compat import screen_lines
from tests.conftest import SlowQuery
from tests.layout_spy import record_layouts
from tests.waiting import settle_before_checking_nothing_happened, until


class Source:
    """``n`` rows named after the source; the count waits for ``gate`` when one is given."""

    def __init__(self, name: str, n: int, gate: threading.Event | None = None) -> None:
        self.name, self.n, self.gate = name, n, gate

    def count(self) -> tuple[int, bool]:
        if self.gate is not None:
            self.gate.wait(10)
        return self.n, False

    def fetch(self, offset: int, limit: int) -> list[str]:
        return [f"{self.name} {i}" for i in range(offset, min(offset + limit, self.n))]


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PagedTable([Column("Row", lambda row: row)], page_size=10)


async def test_a_newer_load_shows_while_the_previous_count_still_runs() -> None:
    gate = threading.Event()
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(Source("slow", 500, gate))  # a full first page: its count is awaited
        await until(pilot, lambda: table.row_at(0) == "slow 0")

        table.load(Source("fast", 30))
        await until(pilot, lambda: table.row_at(0) == "fast 0" and table.row_count == 30)
        still_counting = not gate.is_set()
        gate.set()  # let the slow count finish (late)
        await table.wait_loaded()
        await settle_before_checking_nothing_happened(pilot, 0.1)

        assert still_counting
        assert table.row_at(0) == "fast 0" and table.row_count == 30  # the late count is dropped


class SlowSource(Source):
    """Rows whose count, or whose first page, runs a query of tens of seconds on the real
    database (a count that tests every payer; one letter typed over a million invoices)."""

    def __init__(self, db: Database, slow: str) -> None:
        super().__init__("slow", 500)
        self.slow = slow
        self.query = SlowQuery(db)
        self.ended = threading.Event()
        self.error: Exception | None = None

    def _run_slow_query(self) -> None:
        try:
            self.query()
        except Exception as error:  # the interrupt's DatabaseError, read by nobody else
            self.error = error
            raise
        finally:
            self.ended.set()

    def count(self) -> tuple[int, bool]:
        if self.slow == "count":
            self._run_slow_query()
        return self.n, False

    def fetch(self, offset: int, limit: int) -> list[str]:
        if self.slow == "fetch":
            self._run_slow_query()
        return super().fetch(offset, limit)


async def test_a_superseded_count_is_stopped_not_left_running(db: Database) -> None:
    slow = SlowSource(db, "count")
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(slow)
        await until(pilot, slow.query.running)  # inside the query
        table.load(Source("fast", 30))
        await until(pilot, slow.ended.is_set)
        assert isinstance(slow.error, QueryInterrupted | DatabaseError), slow.error
        await table.wait_loaded()
        assert table.row_at(0) == "fast 0" and table.row_count == 30


async def test_a_superseded_first_page_is_stopped_and_the_newer_rows_shown(
    db: Database,
) -> None:
    """The first part of a burst that arrived in two pieces: its rows would be dropped, so
    its query is stopped at once and the whole text's rows do not wait behind it."""
    slow = SlowSource(db, "fetch")
    app = TableApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(slow)
        await until(pilot, slow.query.running)  # inside the page's query
        table.load(Source("fast", 30))
        await until(pilot, lambda: table.row_at(0) == "fast 0" and table.row_count == 30)
        assert slow.ended.is_set()
        assert isinstance(slow.error, QueryInterrupted | DatabaseError), slow.error


class Rows:
    """Rows read from a list that the test changes, as another session would; ``fetch`` waits
    for ``gate`` while it is clear (a slow query)."""

    def __init__(self, rows: list[str]) -> None:
        self.rows = rows
        self.gate = threading.Event()
        self.gate.set()
        self.fetching = threading.Event()
        self.count_gate = threading.Event()
        self.count_gate.set()

    def count(self) -> tuple[int, bool]:
        self.count_gate.wait(10)
        return len(self.rows), False

    def fetch(self, offset: int, limit: int) -> list[str]:
        self.fetching.set()
        self.gate.wait(10)
        return self.rows[offset : offset + limit]


class KeyedApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PagedTable([Column("Row", lambda row: row)], page_size=10, row_key=lambda row: row)


async def test_a_reload_keeps_the_cursor_on_its_row_across_pages() -> None:
    source = Rows([f"row {i:02}" for i in range(30)])
    app = KeyedApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(source)
        await table.wait_loaded()
        table.cursor_row = 9  # the last row of the first page
        await pilot.pause()
        source.rows[0:0] = ["new a", "new b"]  # two rows arrive above it
        table.reload()
        await table.wait_loaded()
        assert table.highlighted == "row 09" and table.cursor_row == 11  # now on page 2
        del source.rows[0:5]
        table.reload()
        await table.wait_loaded()
        assert table.highlighted == "row 09" and table.cursor_row == 6


async def test_a_move_during_a_reload_is_not_undone() -> None:
    source = Rows([f"row {i:02}" for i in range(30)])
    app = KeyedApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(source)
        await table.wait_loaded()
        table.focus()
        source.gate.clear()
        source.fetching.clear()
        table.reload()
        await until(pilot, source.fetching.is_set)
        await pilot.press("down", "down")  # while the reload's query runs
        source.gate.set()
        await table.wait_loaded()
        assert table.highlighted == "row 02"


async def test_a_reload_shows_the_last_count_until_the_new_one_arrives() -> None:
    source = Rows([f"row {i:03}" for i in range(300)])
    app = KeyedApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(source)
        await table.wait_loaded()
        assert (table.row_count, table.more_rows) == (300, False)
        source.count_gate.clear()  # a slow count, as a broad search at 100,000 payers
        source.rows.append("row 300")
        before = table._data
        table.reload()
        await until(pilot, lambda: table._data is not before)  # rows are back
        await pilot.pause()
        # Not "10+" while the count runs: the last count stands.
        assert (table.row_count, table.more_rows) == (300, False)
        source.count_gate.set()
        await table.wait_loaded()
        assert table.row_count == 301


class RecordingSource(Source):
    fetched: list[str]

    def __init__(self, name: str, fetched: list[str]) -> None:
        super().__init__(name, 5)
        self.fetched = fetched

    def fetch(self, offset: int, limit: int) -> list[str]:
        self.fetched.append(self.name)
        return super().fetch(offset, limit)


async def test_a_burst_of_loads_fetches_only_the_last(monkeypatch: pytest.MonkeyPatch) -> None:
    """A name typed at speed: one load per key, each from its own message (as keys arrive),
    a millisecond apart. Only the whole text is fetched: the first key's broad query no
    longer runs while the rest of the burst waits behind it.

    The gap that ends a burst is widened from its 2 ms here: on a loaded machine (CI, two
    cores, two test processes) timers due a millisecond apart fired more than 2 ms apart and
    the first key's load ran on its own. The coalescing is under test, not the scheduler's
    latency; the 2 ms itself is measured end to end by ``bench/typing_latency.py``."""
    monkeypatch.setattr(paged_loading, "BURST_GAP", 0.25)
    monkeypatch.setattr(paged_loading, "BURST_MAX", 5.0)
    app = TableApp()
    fetched: list[str] = []
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        await pilot.pause()
        fetched.clear()
        typed = ["a", "ad", "ada", "ada ", "ada b", "ada ba"]
        for index, text in enumerate(typed):
            app.set_timer(
                0.001 * (index + 1), lambda text=text: table.load(RecordingSource(text, fetched))
            )
        await until(pilot, lambda: table.row_at(0) == "ada ba 0")
        await table.wait_loaded()
    assert fetched == ["ada ba"]


async def test_new_rows_move_the_scrollbar_without_laying_out_the_screen() -> None:
    app = TableApp()
    # 8 lines: a first page (10 rows, "more") scrolls too, so the scrollbar stays throughout.
    async with app.run_test(size=(40, 8)) as pilot:
        table = app.query_one(PagedTable)
        table.load(Source("a", 500))
        await until(pilot, lambda: table.row_count == 500 and table.show_vertical_scrollbar)
        await pilot.pause()
        screen = app.screen
        layouts = record_layouts(screen)

        table.load(Source("b", 300))
        await until(pilot, lambda: table.row_count == 300)
        await pilot.pause()

        assert table.vertical_scrollbar.window_virtual_size == 301  # the rows and the header
        assert layouts == []  # only the table and its scrollbar were drawn anew

        table.load(Source("c", 3))  # the scrollbar goes: that needs a layout
        await until(pilot, lambda: table.row_count == 3 and not table.show_vertical_scrollbar)
        await pilot.pause()
        assert layouts
        assert "c 2" in "\n".join(screen_lines(app))


async def test_show_highlighted_is_told_at_once_not_after_a_message() -> None:
    seen: list[str | None] = []

    class DetailApp(App[None]):
        def compose(self) -> ComposeResult:
            yield PagedTable(
                [Column("Row", lambda row: row)], page_size=10, show_highlighted=seen.append
            )

    app = DetailApp()
    async with app.run_test() as pilot:
        table = app.query_one(PagedTable)
        table.load(Source("a", 30))
        await until(pilot, lambda: table.row_at(0) == "a 0")
        assert seen[-1] == "a 0"

        table.action_cursor(2)
        assert seen[-1] == "a 2"  # in the same call: drawn in the frame that moves the cursor
