"""What a :class:`~clientpay_tui.widgets.paged_table.PagedTable` shows: a source of rows that
it reads a page at a time, and the pages of the current source it keeps."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

RowT = TypeVar("RowT")
RowT_co = TypeVar("RowT_co", covariant=True)


class RowSource(Protocol[RowT_co]):
    """Where a table gets its rows. Both methods run in a worker thread."""

    def count(self) -> tuple[int, bool]:
        """How many rows there are, and whether more may follow (the count was capped)."""
        ...

    def fetch(self, offset: int, limit: int) -> Sequence[RowT_co]:
        """Rows ``offset`` to ``offset + limit`` (fewer at the end)."""
        ...


class ListSource(Generic[RowT]):
    """A :class:`RowSource` over rows already in memory (short lists such as a payer's
    wallets), so that every table in the app looks and behaves the same."""

    def __init__(self, rows: Sequence[RowT]) -> None:
        self.rows = list(rows)

    def count(self) -> tuple[int, bool]:
        return len(self.rows), False

    def fetch(self, offset: int, limit: int) -> Sequence[RowT]:
        return self.rows[offset : offset + limit]


class PageCache(Generic[RowT]):
    """The rows of one source known so far: a few pages, least recently stored dropped first.

    ``count`` may be provisional (``more``): the rows arrive before the count, and a capped
    count grows as pages past it arrive.
    """

    def __init__(
        self, source: RowSource[RowT], page_size: int, keep: int, count: int, more: bool
    ) -> None:
        self.source = source
        self.page_size = page_size
        self.keep = keep
        self.count = count
        self.more = more
        self.pages: OrderedDict[int, Sequence[RowT]] = OrderedDict()

    def row(self, index: int) -> RowT | None:
        """A row if its page is here (never fetches)."""
        if not 0 <= index < self.count:
            return None
        page = self.pages.get(index // self.page_size)
        offset = index % self.page_size
        return page[offset] if page is not None and offset < len(page) else None

    def store(self, page: int, rows: Sequence[RowT]) -> bool:
        """Keep a fetched page. Returns whether the row count changed (a capped count grew)."""
        self.pages[page] = rows
        while len(self.pages) > self.keep:
            self.pages.popitem(last=False)
        end = page * self.page_size + len(rows)
        if self.more and end >= self.count:
            self.count = end
            self.more = len(rows) == self.page_size
            return True
        return False

    def counted(self, count: int, capped: bool) -> None:
        """The count arrived (after the first page)."""
        self.count = max(count, self.count) if capped else count
        self.more = capped
