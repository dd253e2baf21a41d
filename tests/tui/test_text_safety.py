"""Names and addresses from the database are data: shown literally everywhere, never run as
markup or sent to the terminal as escape codes."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from clientpay_tui.db.models import Payer
from tests.tui.conftest import (
    dialog,
    dialog_text,
    notifications,
    open_details,
    screen_text,
    toasts,
    until,
)

TRICKY = [
    "[bold]Bold[/bold] Ltd",
    "Foo [/x] Bar",
    "[link=https://evil.example]Click[/link]",
    "[@click=app.quit]Quit Inc",
    "[$accent]Var[/] & Co",
]


def store_raw_name(services, payer_id: int, name: str) -> None:
    """Write a name as an older version or another tool might have: unfiltered."""
    with services.db.write() as session:
        payer = session.get(Payer, payer_id)
        payer.name = name


@pytest.mark.parametrize("name", TRICKY)
async def test_markup_names_are_shown_literally(make_app, staff, add_payer, name):
    payer = add_payer(name, "tricky@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.table
        await table.wait_loaded()
        assert name[:18] in screen_text(app)  # the Name column is about 20 cells wide
        screen = await open_details(app, pilot, payer)
        assert screen.query_one("#name", Input).value == name
        await pilot.press("l")
        confirm = await dialog(app, pilot)
        assert name in dialog_text(confirm)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.login is not None)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen.focused).__name__ == "CommandInput")
        await pilot.press(*"tricky")
        await until(pilot, lambda: name[:30] in screen_text(app))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert app.is_running


async def test_escape_codes_are_replaced_on_screen(make_app, staff, services, add_payer):
    payer = add_payer("Placeholder", "esc@example.com")
    store_raw_name(services, payer, "Evil\x1b[2J\x1b]0;pwned\x07 Corp")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen.table.wait_loaded()
        text = screen_text(app)
        assert "\x1b" not in text and "\x07" not in text
        assert "Evil�[2J�]0;pwned" in text
        screen = await open_details(app, pilot, payer)
        assert "\x1b" not in screen.query_one("#name", Input).value
        assert "\x1b" not in screen_text(app)


async def test_toasts_do_not_parse_markup(make_app, staff, services):
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: app.screen.query("#new-payer"))
        await pilot.press(*"[/x] [bold]", "tab", *"x@example.com", "ctrl+s")
        await until(pilot, lambda: "Created payer [/x] [bold]." in toasts(app))
        assert all(n.markup is False for n in notifications(app))
        assert app.is_running
