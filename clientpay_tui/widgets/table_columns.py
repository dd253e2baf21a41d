"""Columns of a :class:`~clientpay_tui.widgets.paged_table.PagedTable` and laying out one line.

Cells are ``rich.text.Text`` built with :func:`clientpay_tui.text.printable`, so values from
the database are shown literally: no markup, no terminal escape codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from clientpay_tui.text import printable

RowT = TypeVar("RowT")


@dataclass(frozen=True)
class Column(Generic[RowT]):
    """One column: a label and how to turn a row into its cell.

    ``render`` may return a ``str`` (shown literally, control characters replaced) or a
    ``rich.text.Text`` that the caller built from literal values.
    """

    label: str
    render: Callable[[RowT], str | Text]
    width: int | None = None
    """Fixed width in cells; ``None`` shares the remaining width with other such columns."""
    ratio: int = 1
    min_width: int = 6
    justify: Literal["left", "right"] = "left"
    give_way: int | None = None
    """Hidden (width 0) when the flexible columns would get less than their ``min_width``:
    the column with the lowest number gives way first. ``None``: always shown."""


def column_widths(columns: Sequence[Column[RowT]], width: int) -> list[int]:
    """Fixed widths as given; the rest of ``width`` (less one space between shown columns)
    shared by the flexible columns in proportion to their ratios.

    While the flexible columns would get less than their ``min_width``, the columns that may
    give way are hidden (width 0), lowest ``give_way`` first: at 80 columns a name is worth
    more than a column the line under the table repeats.
    """
    shown = list(range(len(columns)))
    droppable = sorted((c.give_way, i) for i, c in enumerate(columns) if c.give_way is not None)
    while True:
        widths = _share(columns, shown, width)
        flexible = [i for i in shown if columns[i].width is None]
        wanted = sum(columns[i].min_width for i in flexible)
        if not droppable or _spare(columns, shown, width) >= wanted:
            return widths
        shown.remove(droppable.pop(0)[1])


def _spare(columns: Sequence[Column[RowT]], shown: list[int], width: int) -> int:
    fixed = sum(columns[i].width or 0 for i in shown)
    return max(width - fixed - (len(shown) - 1), 0)


def _share(columns: Sequence[Column[RowT]], shown: list[int], width: int) -> list[int]:
    spare = _spare(columns, shown, width)
    flexible = [i for i in shown if columns[i].width is None]
    total_ratio = sum(columns[i].ratio for i in flexible) or 1
    widths = [0] * len(columns)
    for i in shown:
        column = columns[i]
        widths[i] = (
            column.width
            if column.width is not None
            else max(spare * column.ratio // total_ratio, column.min_width)
        )
    given = sum(widths[i] for i in flexible)
    if flexible and given < spare:  # rounding leftovers go to the last flexible column
        widths[flexible[-1]] += spare - given
    # A minimum raised one column above its share: take it back from the widest others.
    while flexible and given > spare:
        widest = max(flexible, key=lambda i: widths[i] - columns[i].min_width)
        if widths[widest] <= columns[widest].min_width:
            break
        widths[widest] -= 1
        given -= 1
    return widths


def line_segments(
    values: Sequence[str | Text],
    columns: Sequence[Column[RowT]],
    widths: Sequence[int],
    base: Style,
    console: Console,
) -> list[Segment]:
    """One line's segments: each cell cut to its column (with an ellipsis) and padded, one
    space apart, its style over ``base`` (a ``Text`` cell's padding in its style too).

    Built as segments directly, one per run of a style: laying the line out as one ``Text``
    and rendering it took ~0.15 ms a line, a third of a search's frame, and every segment
    costs again in Textual's drawing and in what is written to the terminal.
    """
    line = _Line(base)
    for value, column, cell_width in zip(values, columns, widths, strict=True):
        if not cell_width:
            continue  # a column that gave way
        if line.segments or line.text:
            line.add(" ", base)
        if isinstance(value, Text) and value.spans:
            for segment in _rendered_cell(value, column, cell_width, base, console):
                line.add(segment.text, segment.style or base)
            continue
        if isinstance(value, Text):  # one style, the padding's too
            text, style = value.plain, base + console.get_style(value.style, default=Style.null())
        else:
            text, style = printable(value), base
        length = cell_len(text)
        if length > cell_width:
            text, length = set_cell_size(text, cell_width - 1) + "…", cell_width
        pad = " " * (cell_width - length)
        if column.justify == "right":
            line.add(pad, style)
            line.add(text, style)
        else:
            line.add(text, style)
            line.add(pad, style)
    return line.end()


class _Line:
    """Segments of one line, a style's neighbouring pieces joined into one segment."""

    def __init__(self, base: Style) -> None:
        self.segments: list[Segment] = []
        self.text = ""
        self.style = base

    def add(self, text: str, style: Style) -> None:
        if style != self.style:
            if self.text:
                self.segments.append(Segment(self.text, self.style))
            self.text, self.style = "", style
        self.text += text

    def end(self) -> list[Segment]:
        if self.text:
            self.segments.append(Segment(self.text, self.style))
        return self.segments


def _rendered_cell(
    cell: Text, column: Column[RowT], cell_width: int, base: Style, console: Console
) -> list[Segment]:
    """A cell of several styles, laid out as ``Text`` and rendered by Rich."""
    cell = cell.copy()
    cell.end = ""
    cell.truncate(cell_width, overflow="ellipsis")
    if column.justify == "right":
        cell.pad_left(cell_width - cell.cell_len)
    else:
        cell.pad_right(cell_width - cell.cell_len)
    return list(Segment.apply_style(cell.render(console), base))
