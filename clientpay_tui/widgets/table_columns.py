"""Columns of a :class:`~clientpay_tui.widgets.paged_table.PagedTable` and laying out one line.

Cells are ``rich.text.Text`` built with :func:`clientpay_tui.text.printable`, so values from
the database are shown literally: no markup, no terminal escape codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

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


def cell_text(value: str | Text) -> Text:
    """A cell as ``Text``: strings are taken literally, never parsed as markup."""
    if isinstance(value, Text):
        return value
    return Text(printable(value), no_wrap=True, end="")


def column_widths(columns: Sequence[Column[RowT]], width: int) -> list[int]:
    """Fixed widths as given; the rest of ``width`` (less one space between columns) shared
    by the flexible columns in proportion to their ratios."""
    fixed = sum(c.width for c in columns if c.width is not None)
    spare = max(width - fixed - (len(columns) - 1), 0)
    flexible = [i for i, c in enumerate(columns) if c.width is None]
    total_ratio = sum(columns[i].ratio for i in flexible) or 1
    widths = [
        c.width if c.width is not None else max(spare * c.ratio // total_ratio, c.min_width)
        for c in columns
    ]
    given = sum(widths[i] for i in flexible)
    if flexible and given < spare:  # rounding leftovers go to the last flexible column
        widths[flexible[-1]] += spare - given
    return widths


def lay_out(cells: Sequence[Text], columns: Sequence[Column[RowT]], widths: Sequence[int]) -> Text:
    """One line: each cell cut to its column (with an ellipsis) and padded, one space apart."""
    line = Text(no_wrap=True, end="")
    for i, (cell, column, cell_width) in enumerate(zip(cells, columns, widths, strict=True)):
        if i:
            line.append(" ")
        cell = cell.copy()
        cell.truncate(cell_width, overflow="ellipsis")
        if column.justify == "right":
            cell.pad_left(cell_width - cell.cell_len)
        else:
            cell.pad_right(cell_width - cell.cell_len)
        line.append_text(cell)
    return line
