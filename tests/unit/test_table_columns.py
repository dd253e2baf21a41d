"""One line of a PagedTable: cells cut, padded and styled as segments, one per run of a style."""

from __future__ import annotations

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from clientpay_tui.widgets.table_columns import Column, line_segments

BASE = Style(color="white", bgcolor="black")
CONSOLE = Console()


def line(
    values: list[str | Text], columns: list[Column[object]], widths: list[int]
) -> list[Segment]:
    return line_segments(values, columns, widths, BASE, CONSOLE)


def test_cells_are_cut_with_an_ellipsis_padded_and_one_space_apart_in_one_segment() -> None:
    columns: list[Column[object]] = [Column("A", str), Column("B", str), Column("C", str)]

    segments = line(["Élodie Tremblay", "x", "42"], columns, [8, 3, 4])

    assert segments == [Segment("Élodie … x   42  ", BASE)]


def test_a_right_justified_column_pads_on_the_left_and_a_column_that_gave_way_is_left_out() -> None:
    columns: list[Column[object]] = [
        Column("Name", str),
        Column("Source", str),
        Column("Amount", str, justify="right"),
    ]

    segments = line(["Ada", "Connect", "12.50"], columns, [5, 0, 8])

    assert "".join(s.text for s in segments) == "Ada      12.50"


def test_a_styled_cell_keeps_its_style_over_the_base_and_over_its_padding() -> None:
    columns: list[Column[object]] = [Column("Name", str), Column("Login", str)]

    segments = line(["Ada", Text("Locked", style="reverse")], columns, [4, 8])

    assert segments == [
        Segment("Ada  ", BASE),
        Segment("Locked  ", BASE + Style(reverse=True)),
    ]


def test_a_cell_of_several_styles_is_rendered_by_rich_and_cut_to_its_width() -> None:
    cell = Text.assemble(("INV-", "bold"), ("880412", "italic"))
    columns: list[Column[object]] = [Column("Invoice", str)]

    segments = line([cell], columns, [7])

    assert "".join(s.text for s in segments) == "INV-88…"
    assert segments[0] == Segment("INV-", BASE + Style(bold=True))
    assert all(s.style is not None and s.style.bgcolor == BASE.bgcolor for s in segments)


def test_control_characters_and_markup_are_shown_literally() -> None:
    columns: list[Column[object]] = [Column("Name", str)]

    segments = line(["[b]Eve[/b]\x1b[31m"], columns, [20])

    text = "".join(s.text for s in segments)
    assert text.startswith("[b]Eve[/b]\ufffd[31m")
    assert "\x1b" not in text
