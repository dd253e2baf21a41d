"""The loading half of :class:`~clientpay_tui.widgets.paged_table.PagedTable`.

Which rows the table holds and how they arrive: loads queued and coalesced (a burst of keys
runs one query), the first page shown before the count, a count interrupted by a newer search,
the cursor kept on its row across reloads, and the pages fetched as they come on screen. All
database work runs in worker threads; the rendering, the cursor's keys and the messages are
the table's.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from textual.geometry import Size
from textual.reactive import Reactive, reactive
from textual.scroll_view import ScrollView
from textual.worker import Worker, WorkerState

from clientpay_tui.errors import ClientPayError
from clientpay_tui.query_interrupt import QueryInterrupt, interruptible
from clientpay_tui.text import one_line
from clientpay_tui.widgets.row_source import PageCache, RowSource
from clientpay_tui.widgets.textual_compat import end_app_with_error, update_scrollbars

RowT = TypeVar("RowT")
T = TypeVar("T")
BURST_GAP = 0.002
"""Keys of one burst reach the table within this many seconds of each other (a burst already
received is handled a key every fraction of a millisecond; one that arrives in pieces starts a
query that the next piece stops)."""
BURST_MAX = 0.08
"""The longest a burst may hold the first query back."""


class PagedLoading(ScrollView, Generic[RowT]):
    """A scroll view over a :class:`RowSource`, fetching the pages it is asked for."""

    cursor_row: reactive[int] = reactive(0, always_update=True, init=False)
    """Index of the highlighted row."""
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """Rows and width: a change moves the scrollbar without laying out the screen anew
    (:meth:`_update_virtual_size`)."""

    def __init__(
        self,
        *,
        page_size: int,
        cache_pages: int,
        row_key: Callable[[RowT], Hashable] | None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.page_size = page_size
        self.cache_pages = cache_pages
        self.row_key = row_key
        """Identifies a row across reloads: the cursor follows its row when rows above it
        come or go (another session added a payer)."""
        self._data: PageCache[RowT] | None = None
        self._latest: RowSource[RowT] | None = None
        self._pending_load: tuple[RowSource[RowT], bool] | None = None
        self._queued = 0
        """Loads queued so far: a burst of keystrokes shows as a count that keeps rising."""
        self._load_queued = asyncio.Event()
        self._loader: Worker[None] | None = None
        self._loading = False
        self._fetching: set[int] = set()

    # -- what the table shows on screen (hooks) ---------------------------------------------

    def _post_loaded(self, count: int, more: bool) -> None:
        """Tell the screen that ``count`` rows (``more``: capped) are on screen."""
        raise NotImplementedError

    def _post_highlighted(self) -> None:
        """Tell the screen which row is under the cursor (its page may just have arrived)."""
        raise NotImplementedError

    # -- public API -------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return self._data.count if self._data else 0

    @property
    def more_rows(self) -> bool:
        """The count was capped: rows beyond :attr:`row_count` appear as you scroll."""
        return bool(self._data and self._data.more)

    def row_at(self, index: int) -> RowT | None:
        """A row if its page is in the cache (never fetches)."""
        return self._data.row(index) if self._data else None

    def load(self, source: RowSource[RowT], *, keep_cursor: bool = False) -> None:
        """Show ``source`` from its first row (or, with ``keep_cursor``, where the cursor is:
        the same rows fetched anew). The current rows stay until the new first page has
        arrived, so the table never flashes empty while someone types.

        Loads are coalesced: while one query runs, further calls only replace the source that
        runs next, so typing quickly costs one query at a time and stale results are dropped.
        """
        self._queue_load(source, keep_cursor=keep_cursor)

    def reload(self) -> None:
        """Fetch the current source again (after an edit, or a change elsewhere), keeping
        the cursor on its row. A load already queued (someone is typing) fetches anew
        anyway: it is left as it is, so the newest search is never replaced by an older one.
        """
        if self._pending_load is None and self._latest is not None:
            self._queue_load(self._latest, keep_cursor=True)

    async def wait_loaded(self) -> None:
        """Wait until the pending load has reached the screen (tests and benchmarks)."""
        while self._loading and self._loader is not None:
            await self._loader.wait()

    # -- loading ----------------------------------------------------------------------------

    def _queue_load(self, source: RowSource[RowT], *, keep_cursor: bool) -> None:
        self._latest = source
        self._pending_load = (source, keep_cursor)
        self._queued += 1
        self._load_queued.set()
        if not self._loading:
            self._loading = True
            self._loader = self.run_worker(
                self._run_loads(), group="paged-table-load", exit_on_error=False
            )

    async def _run_loads(self) -> None:
        try:
            await self._burst_over()
            await self._apply_loads()
        finally:
            self._loading = False

    async def _burst_over(self) -> None:
        """Wait while keys keep coming (a name typed at speed or pasted arrives as one burst
        of keystrokes): the query then runs once, for the whole text. Started at the first
        key, a broad query (one letter) ran to its end while the rest of the burst waited
        behind it (figures: bench/RESULTS.md, issue 15). At most ``BURST_MAX`` seconds."""
        deadline = asyncio.get_running_loop().time() + BURST_MAX
        while asyncio.get_running_loop().time() < deadline:
            seen = self._queued
            await asyncio.sleep(BURST_GAP)
            if self._queued == seen:
                return

    async def _apply_loads(self) -> None:
        while self._pending_load is not None:
            source, keep_cursor = self._pending_load
            self._pending_load = None
            start = self.cursor_row
            cursor = start if keep_cursor else 0
            key = self._key_at(cursor) if keep_cursor else None
            # The rows are what the staff member waits for: the count (often the slower
            # query) starts once they are on screen: run beside the page query it took the
            # GIL from it (SQLAlchemy is Python; figures in bench/RESULTS.md).
            first_page = cursor // self.page_size
            offset = first_page * self.page_size
            first_rows = functools.partial(source.fetch, offset, self.page_size)
            rows = await self._unless_superseded(first_rows)
            if rows is None:
                continue  # a newer search is waiting: this one's rows would be dropped anyway
            if not rows and first_page:
                # The cursor's page is past the end now (rows went away): go to the last one.
                count, _more = await asyncio.to_thread(source.count)
                cursor = max(min(cursor, count - 1), 0)
                first_page = cursor // self.page_size
                rows = await asyncio.to_thread(
                    source.fetch, first_page * self.page_size, self.page_size
                )
            pages = {first_page: rows}
            if key is not None:
                cursor = await self._follow_key(source, key, cursor, pages)
            if keep_cursor and self.cursor_row != start and self._pending_load is None:
                # The staff member moved meanwhile: fetch again around where they are now.
                self._pending_load = (source, True)
                continue
            if self._pending_load is not None:
                continue  # superseded by a newer search before it reached the screen
            end = max(page * self.page_size + len(got) for page, got in pages.items())
            complete = len(pages[max(pages)]) < self.page_size  # the last page: count known
            count, more = end, not complete
            known = self._data
            if not complete and keep_cursor and known is not None and known.source is source:
                # The same rows again: the last count stands until the new one arrives, so
                # the count line and the scrollbar do not flicker on every refresh.
                count, more = max(known.count, end), known.more
            data = self._show_first_page(source, pages, cursor, keep_cursor, count, more)
            if complete:
                continue
            # Once the rows are drawn: run beside the drawing, the count's Python (planning,
            # its statement) took the interpreter from it and the rows showed later.
            await self.wait_for_refresh()
            counted = await self._unless_superseded(source.count)
            if counted is None:
                continue  # a newer search is waiting: its rows first, not this count
            count, capped = counted
            if self._data is data:
                data.counted(count, capped)
                self._update_virtual_size()
                self.cursor_row = min(self.cursor_row, max(data.count - 1, 0))
                self.refresh()
                self._post_loaded(data.count, data.more)

    async def _unless_superseded(self, query: Callable[[], T]) -> T | None:
        """``query``'s result (run in a thread), or ``None``, and the query stopped, as soon
        as a newer load is queued.

        A broad search can take hundreds of milliseconds (one letter over a million invoices;
        a count that tests every payer); the next keystroke's rows must not wait for it, nor
        share the machine with it: its query is interrupted, not left to run to the end in
        its thread.
        """
        self._load_queued.clear()
        if self._pending_load is not None:
            return None
        stop = QueryInterrupt()
        running = asyncio.ensure_future(asyncio.to_thread(interruptible(stop, query)))
        newer = asyncio.ensure_future(self._load_queued.wait())
        try:
            waiting: set[asyncio.Future[Any]] = {running, newer}
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        finally:
            newer.cancel()
        if running.done() and not running.cancelled():
            return running.result()
        running.cancel()
        # In a thread: PostgreSQL's cancel request opens a connection (~5 ms).
        threading.Thread(target=stop, name="query interrupt", daemon=True).start()
        return None

    def _key_at(self, index: int) -> Hashable | None:
        row = self.row_at(index)
        return None if row is None or self.row_key is None else self.row_key(row)

    async def _follow_key(
        self,
        source: RowSource[RowT],
        key: Hashable,
        cursor: int,
        pages: dict[int, Sequence[RowT]],
    ) -> int:
        """Where the row with ``key`` is now: on the cursor's page or a neighbouring one
        (fetched into ``pages``); else the cursor stays where it was."""
        assert self.row_key is not None
        page = cursor // self.page_size
        neighbours = [n for n in (page - 1, page + 1) if n >= 0]
        for candidate in (page, *neighbours):
            if candidate not in pages:
                if candidate > page and len(pages[page]) < self.page_size:
                    continue  # the cursor's page is the last one
                fetched = await asyncio.to_thread(
                    source.fetch, candidate * self.page_size, self.page_size
                )
                if self._pending_load is not None:
                    return cursor  # superseded: the newer load decides
                if not fetched:
                    continue
                pages[candidate] = fetched
            for offset, row in enumerate(pages[candidate]):
                if self.row_key(row) == key:
                    return candidate * self.page_size + offset
        return cursor

    def _show_first_page(
        self,
        source: RowSource[RowT],
        pages: dict[int, Sequence[RowT]],
        cursor: int,
        keep_cursor: bool,
        count: int,
        more: bool,
    ) -> PageCache[RowT]:
        data = PageCache(source, self.page_size, self.cache_pages, count, more)
        for page, rows in sorted(pages.items()):
            if rows:
                data.store(page, rows)
        moved = cursor - self.cursor_row
        self._data = data
        self._fetching.clear()
        self._update_virtual_size()
        if not keep_cursor:
            self.scroll_to(y=0, animate=False, force=True, immediate=True)
        elif moved:
            # The row moved (rows came or went above it): keep it on the same screen line.
            y = max(int(self.scroll_offset.y) + moved, 0)
            self.scroll_to(y=y, animate=False, force=True, immediate=True)
        self.cursor_row = min(cursor, max(count - 1, 0))
        self.refresh()
        self._post_loaded(count, more)
        return data

    def _want_page(self, page: int) -> None:
        data = self._data
        if data is None or page in data.pages or page in self._fetching:
            return
        self._fetching.add(page)
        self.run_worker(
            self._fetch_page(data, page), group="paged-table-pages", exit_on_error=False
        )

    async def _fetch_page(self, data: PageCache[RowT], page: int) -> None:
        rows = await asyncio.to_thread(data.source.fetch, page * self.page_size, self.page_size)
        if self._data is not data:
            return  # a newer source was loaded meanwhile
        self._fetching.discard(page)
        if data.store(page, rows):  # a capped count grows as the user scrolls past it
            self._update_virtual_size()
            self._post_loaded(data.count, data.more)
        self.refresh()
        if page == self.cursor_row // self.page_size:
            self._post_highlighted()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The table cannot show what failed to load: tell the staff member, keep the rows.
        if event.state == WorkerState.ERROR and event.worker.group.startswith("paged-table"):
            error = event.worker.error
            if isinstance(error, ClientPayError):
                self.notify(one_line(error), severity="error", markup=False)
                self._fetching.clear()
            elif isinstance(error, Exception):
                end_app_with_error(self.app, error)

    def _update_virtual_size(self) -> None:
        rows = self.row_count + (1 if self.more_rows else 0)
        size = Size(self.scrollable_content_region.width, rows + 1)
        if size != self.virtual_size:
            self.virtual_size = size
            update_scrollbars(self)
