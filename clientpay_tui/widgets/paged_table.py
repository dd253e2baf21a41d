"""A table that shows rows fetched a page at a time from a data source.

``DataTable`` keeps every row in the widget: adding 100,000 rows blocks the event loop for
seconds and clearing and refilling it per keystroke costs tens of milliseconds. This widget is
a Line-API ``ScrollView`` that knows only how many rows there are; it asks its
:class:`RowSource` for the pages it needs to paint, in a worker thread, and keeps a few pages
in a small cache. Scrolling to row 90,000 fetches one page.

Cells are rendered from ``rich.text.Text`` built with :func:`clientpay_tui.text.printable`, so
values from the database are shown literally: no markup, no terminal escape codes.

Loading (sources, workers, counts, keeping the cursor on its row) is
:class:`~clientpay_tui.widgets.paged_loading.PagedLoading`; this module draws and steers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, ClassVar, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.strip import Strip

from clientpay_tui.text import printable
from clientpay_tui.widgets.paged_loading import PagedLoading
from clientpay_tui.widgets.row_source import ListSource, RowSource
from clientpay_tui.widgets.table_columns import Column, column_widths, line_segments

__all__ = ["Column", "ListSource", "PagedTable", "RowSource"]

RowT = TypeVar("RowT")


class _TableMessage(Message):
    """What every message of a :class:`PagedTable` carries: the table, as its control."""

    def __init__(self, table: PagedTable[Any]) -> None:
        super().__init__()
        self.table = table

    @property
    def control(self) -> PagedTable[Any]:
        return self.table


class _RowMessage(_TableMessage):
    def __init__(self, table: PagedTable[Any], index: int, row: Any) -> None:
        super().__init__(table)
        self.index = index
        self.row = row


class PagedTable(PagedLoading[RowT], can_focus=True):
    """A keyboard-driven table over a :class:`RowSource`, painting only the rows on screen."""

    DEFAULT_CSS = """
    PagedTable {
        height: 1fr;
        overflow-x: hidden;
        background: $surface;
        & > .paged-table--header { text-style: bold; background: $panel; }
        & > .paged-table--cursor { background: $block-cursor-blurred-background; }
        &:focus > .paged-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .paged-table--pending { color: $text-muted; }
        & > .paged-table--empty { color: $text-muted; text-style: italic; }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "paged-table--header",
        "paged-table--cursor",
        "paged-table--pending",
        "paged-table--empty",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select", "Open", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
    ]

    class RowSelected(_RowMessage):
        """``enter`` (or a second click) on a loaded row."""

    class HeaderClicked(_TableMessage):
        """A click on the header line, over column ``column`` (an index into ``columns``)."""

        def __init__(self, table: PagedTable[Any], column: int) -> None:
            super().__init__(table)
            self.column = column

    class Loaded(_TableMessage):
        """A new source (or a reload) is on screen; ``count`` rows, ``more`` if capped."""

        def __init__(self, table: PagedTable[Any], count: int, more: bool) -> None:
            super().__init__(table)
            self.count = count
            self.more = more

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        *,
        empty_text: str = "Nothing to show.",
        page_size: int = 100,
        cache_pages: int = 20,
        row_key: Callable[[RowT], Hashable] | None = None,
        show_highlighted: Callable[[RowT | None], None] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(
            page_size=page_size,
            cache_pages=cache_pages,
            row_key=row_key,
            name=name,
            id=id,
            classes=classes,
        )
        self.columns = list(columns)
        self.empty_text = empty_text
        self.show_highlighted = show_highlighted
        """Called at once with the row under the cursor (``None`` while its page is loading)
        whenever the cursor moves or new rows arrive, for what describes it (a line under the
        table): it changes in the same frame as the rows. It was a message, which reaches the
        screen through two queues: the rows' frame was often drawn before it, the line a frame
        (8-20 ms) later."""
        self._widths: list[int] = []
        self._widths_for: tuple[int, list[Column[RowT]]] | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def highlighted(self) -> RowT | None:
        """The row under the cursor, or ``None`` if there is none or it is still loading."""
        return self.row_at(self.cursor_row)

    def _post_loaded(self, count: int, more: bool) -> None:
        self.post_message(self.Loaded(self, count, more))

    # -- geometry ---------------------------------------------------------------------------

    @property
    def _body_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def on_resize(self, _event: events.Resize) -> None:
        self._widths_for = None
        self._update_virtual_size()
        self._scroll_cursor_visible()

    def _column_widths(self, width: int) -> list[int]:
        laid_out = self._widths_for
        if laid_out is None or laid_out[0] != width or laid_out[1] is not self.columns:
            self._widths = column_widths(self.columns, width)
            self._widths_for = (width, self.columns)
        return self._widths

    # -- rendering --------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            return self._render_header(width)
        data = self._data
        index = int(self.scroll_offset.y) + y - 1
        if data is None or data.count == 0:
            if y == 1 and data is not None:
                return self._message_line(self.empty_text, "paged-table--empty", width)
            return Strip.blank(width, self.rich_style)
        if index >= data.count:
            if data.more and index == data.count:
                self._want_page(index // self.page_size)
            return Strip.blank(width, self.rich_style)
        row = self.row_at(index)
        if row is None:
            self._want_page(index // self.page_size)
            return self._message_line("…", "paged-table--pending", width)
        if index == self.cursor_row:
            base = self.get_component_rich_style("paged-table--cursor")
        else:
            base = Style()
        return self._render_row(row, width, base)

    def _render_header(self, width: int) -> Strip:
        style = self.get_component_rich_style("paged-table--header")
        return self._line([c.label for c in self.columns], width, style)

    def _render_row(self, row: RowT, width: int, base: Style) -> Strip:
        return self._line([column.render(row) for column in self.columns], width, base)

    def _line(self, values: list[str | Text], width: int, style: Style) -> Strip:
        base = self.rich_style + style
        widths = self._column_widths(width)
        segments = line_segments(values, self.columns, widths, base, self.app.console)
        return Strip(segments).crop_extend(0, width, base)

    def _message_line(self, message: str, component: str, width: int) -> Strip:
        """A line holding one message (no rows; a page on its way), not laid out in columns:
        the message in the component's style, the rest of the line in the table's."""
        text = f" {printable(message)}"
        style = self.rich_style + self.get_component_rich_style(component)
        return Strip([Segment(text, style)], cell_len(text)).crop_extend(0, width, self.rich_style)

    # -- cursor -----------------------------------------------------------------------------

    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, self.row_count - 1)) if self.row_count else 0

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_cursor_visible()
        self.refresh()
        self._post_highlighted()

    def _post_highlighted(self) -> None:
        if self._data is not None and self.show_highlighted is not None:
            self.show_highlighted(self.highlighted)

    def _scroll_cursor_visible(self) -> None:
        # force=True: right after a load the scrollbars are not laid out yet, and Textual
        # refuses to scroll a widget that shows no scrollbar (End would move the cursor to a
        # row that never gets painted, so its page would never be fetched).
        top = int(self.scroll_offset.y)
        height = self._body_height
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True, immediate=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(
                y=self.cursor_row - height + 1, animate=False, force=True, immediate=True
            )

    def action_cursor(self, delta: int) -> None:
        self.cursor_row += delta

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * self._body_height

    def action_first(self) -> None:
        self.cursor_row = 0

    def action_last(self) -> None:
        self.cursor_row = self.row_count - 1

    def action_select(self) -> None:
        row = self.highlighted
        if row is not None:
            self.post_message(self.RowSelected(self, self.cursor_row, row))

    def on_click(self, event: events.Click) -> None:
        if event.y < 1:
            self._header_clicked(event.x)
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if index >= self.row_count:
            return
        if index == self.cursor_row or event.chain > 1:
            self.cursor_row = index
            self.action_select()
        else:
            self.cursor_row = index

    def _header_clicked(self, x: int) -> None:
        left = 0
        for index, width in enumerate(self._column_widths(self.scrollable_content_region.width)):
            if not width:
                continue  # gave way: not on screen
            if x < left + width + 1:  # a column and the space after it
                self.post_message(self.HeaderClicked(self, index))
                return
            left += width + 1
