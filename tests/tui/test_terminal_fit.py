"""Terminal citizenship: a 16-colour terminal shows the placeholder and the focused field, a
locale that is not UTF-8 gets one line saying what to set, and the palette's Screenshot saves
into the user data directory and says where."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.color import ColorSystem
from rich.console import Console
from textual.command import CommandList
from textual.widgets import Input

from clientpay_tui import terminal_fit
from tests.tui.conftest import toasts, until


@pytest.mark.parametrize(
    ("environ", "advice"),
    [
        ({"LANG": "en_GB.UTF-8"}, None),
        ({"LANG": "C.utf8"}, None),
        ({"LC_ALL": "de_DE.utf-8@euro", "LANG": "C"}, None),
        ({"LANG": "C"}, "LANG=C"),
        ({"LC_ALL": "C", "LANG": "en_GB.UTF-8"}, "LC_ALL=C"),  # LC_ALL wins
        ({"LC_CTYPE": "POSIX"}, "LC_CTYPE=POSIX"),
        ({"LANG": "fr_FR.ISO-8859-1"}, "LANG=fr_FR.ISO-8859-1"),
        ({}, "no LANG"),
    ],
)
def test_locale_advice_names_the_variable_to_set(environ, advice) -> None:
    said = terminal_fit.locale_advice(environ)
    if advice is None:
        assert said is None
        return
    assert said is not None and advice in said and "\n" not in said
    variable = advice.partition("=")[0] if "=" in advice else "LANG"
    assert f"set {variable}=C.UTF-8" in said


def test_sixteen_colours_are_told_apart_from_more() -> None:
    assert terminal_fit.low_colour(Console(color_system="standard", force_terminal=True))
    assert not terminal_fit.low_colour(Console(color_system="256", force_terminal=True))
    assert not terminal_fit.low_colour(Console(color_system="truecolor", force_terminal=True))


def _in_16_colours(style) -> int | None:
    color = style.color.downgrade(ColorSystem.STANDARD) if style.color else None
    return color.number if color else None


async def test_placeholder_and_focus_survive_16_colours(make_app, staff) -> None:
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        app.add_class(terminal_fit.LOW_COLOUR_CLASS)
        await pilot.pause()
        search = app.screen.query_one("#search", Input)
        placeholder = search.get_component_rich_style("input--placeholder")
        background = search.rich_style.bgcolor.downgrade(ColorSystem.STANDARD).number
        assert placeholder.italic
        assert _in_16_colours(placeholder) != background  # was colour 8 on colour 8
        blurred = search.rich_style.bgcolor.downgrade(ColorSystem.STANDARD).number
        await pilot.press("slash")
        await until(pilot, lambda: app.screen.focused is search)
        await pilot.pause()
        focused = search.rich_style.bgcolor.downgrade(ColorSystem.STANDARD).number
        assert focused != blurred


async def test_a_locale_that_is_not_utf8_is_named_in_a_toast(make_app, staff, monkeypatch):
    monkeypatch.setenv("LANG", "C")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: toasts(app))
        assert any("LANG=C" in toast and "set LANG=C.UTF-8" in toast for toast in toasts(app))


async def test_palette_screenshot_saves_in_the_data_directory(make_app, staff, tmp_path) -> None:
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert titles.count("Screenshot") == 1
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen.focused).__name__ == "CommandInput")
        await pilot.press(*"screenshot")

        def screenshot_highlighted() -> bool:
            option = app.screen.query_one(CommandList).highlighted_option
            return option is not None and str(option.prompt).startswith("Screenshot")

        await until(pilot, screenshot_highlighted)
        await pilot.press("enter")
        await until(pilot, lambda: any("Screenshot saved to" in t for t in toasts(app)))
        saved = _screenshots(tmp_path / "data" / "clientpay-tui" / "screenshots")
        assert str(saved) in " ".join(toasts(app))
    assert not _screenshots(Path.cwd(), pattern="*.svg", expected=0)


def _screenshots(folder: Path, pattern: str = "screen-*.svg", expected: int = 1) -> Path | None:
    """The one SVG screenshot in ``folder`` (or ``None`` when ``expected`` is 0)."""
    found = list(folder.glob(pattern))
    assert len(found) == expected
    if not found:
        return None
    assert found[0].read_text().startswith("<svg")
    return found[0]
