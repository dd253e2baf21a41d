"""PagedTable: the next search's rows do not wait for the previous search's count, and that
count is stopped rather than left running."""

from __future__ import annotations

import threading

from textual.app import App, ComposeResult

from clientpay_tui.db.engine import Database
from clientpay_tui.errors import DatabaseError, QueryInterrupted
from clientpay_tui.widgets.paged_table import Column, PagedTable
from tests.conftest import SlowQuery
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


class SlowCountSource(Source):
    """Rows at once; a count that runs a query of tens of seconds on the real database."""

    def __init__(self, db: Database) -> None:
        super().__init__("slow", 500)
        self.query = SlowQuery(db)
        self.started = threading.Event()
        self.ended = threading.Event()
        self.error: Exception | None = None

    def count(self) -> tuple[int, bool]:
        self.started.set()
        try:
            self.query()
        except Exception as error:  # the interrupt's DatabaseError, read by nobody else
            self.error = error
            raise
        finally:
            self.ended.set()
        return self.n, False


async def test_a_superseded_count_is_stopped_not_left_running(db: Database) -> None:
    slow = SlowCountSource(db)
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
