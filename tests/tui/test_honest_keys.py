"""Keys that never lie: a key that cannot act is hidden from the Footer and the palette and,
pressed anyway, says why; keys typed while a payer opens reach the payer; the notice dialog's
Footer names its one button; a From date after To says so; no field silently cuts text."""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual import events
from textual.command import CommandPalette
from textual.widgets import Input

from clientpay_tui.app import ClientPayApp
from clientpay_tui.db.models import Role
from clientpay_tui.screens.add_associations import AddAssociationsScreen
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.services.facade import Services
from tests.tui.conftest import (
    connect,
    dialog,
    open_details,
    screen_text,
    toasts,
    until,
)


def footer(app: ClientPayApp) -> str:
    """The Footer: the bottom line with text (a modal's rendering may end in blank lines)."""
    return [line for line in screen_text(app).splitlines() if line.strip()][-1]


async def test_keys_for_a_login_are_hidden_without_one_and_say_why(make_app, staff, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.pause()
        shown = footer(app)
        assert "l Login" in shown
        for hidden in ("Reset", "Resend", "Delete", "Unlock"):
            assert hidden not in shown, shown
        why = "Ada Lovelace has no login: switch Login Access on (l) to invite them."
        for key in ("r", "d", "u"):
            before = len(toasts(app))
            await pilot.press(key)
            await until(pilot, lambda before=before: len(toasts(app)) > before)
            assert toasts(app)[-1] == why, key
        assert app.screen is screen, "no dialog opened"

        # Invited: r re-sends (shown and acting), u still says why (not locked).
        await pilot.press("l")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.login is not None)
        await pilot.pause()
        assert "r Resend" in footer(app) and "d Delete" in footer(app)
        assert "Unlock" not in footer(app)
        await pilot.press("u")
        await until(pilot, lambda: toasts(app)[-1] == "The login of Ada Lovelace is not locked.")
        await pilot.press("r")
        asked = await dialog(app, pilot)
        assert asked.title_text == "Re-send welcome email"
        await pilot.press("n")


async def test_the_palette_offers_only_what_applies(make_app, staff, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), seconds=10)
        await pilot.press(*"login")
        await until(pilot, lambda: "Toggle Login Access" in screen_text(app), seconds=10)
        shown = screen_text(app)
        assert "Delete the login" not in shown
        await pilot.press("escape")


async def test_a_key_the_role_forbids_on_the_list_says_why(make_app, make_actor):
    agent = make_actor(Role.AGENT, "alex")
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        app.screen.set_focus(app.screen.table)
        await pilot.press("n")
        await until(pilot, lambda: toasts(app) and "you are agent" in toasts(app)[-1])
        assert isinstance(app.screen, PayerListScreen)


@pytest.mark.parametrize("second", [False, True], ids=["one payer", "a second payer"])
async def test_keys_typed_while_a_payer_opens_go_to_the_payer(
    make_app, staff, services, add_payer, monkeypatch, second
):
    """ "enter" then "l": Login Access of the payer that opens, not the list's search box.
    ``second``: another payer is asked for while the first loads (the palette, a click),
    which cancels the first opening; the keys wait for the second, not for the first's end."""
    ada = add_payer("Ada Lovelace", "ada@example.com")
    grace = add_payer("Grace Hopper", "grace@example.com")
    real_get = services.payers.get

    def slow_get(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.3)  # a busy database: the keys below arrive while the payer loads
        return real_get(*args, **kwargs)

    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        home = app.screen
        await pilot.press("slash", *"ada")
        await until(pilot, lambda: home.table.highlighted is not None)
        monkeypatch.setattr(services.payers, "get", slow_get)
        await pilot.press("enter")  # Ada starts loading
        if second:
            app.open_payer(grace)  # Grace is asked for: Ada's opening is cancelled
        await pilot.press("l")  # Login Access, at once
        asked = await dialog(app, pilot)
        assert asked.title_text == "Grant login access"
        assert home.query_one("#search", Input).value == "ada", "nothing typed into the list"
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert app.screen.detail.id == (grace if second else ada)


async def test_the_rate_limit_notice_footer_names_its_one_button(
    db, settings, clock, staff, add_payer
):
    limited = settings.model_copy(update={"email_limit_count": 1, "resend_confirm_seconds": 0})
    services = Services(db, limited, clock)
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = ClientPayApp(services, actor=staff, handle_sighup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.press("l")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.login is not None)
        await pilot.press("r")
        await dialog(app, pilot)
        await pilot.press("y")  # re-send: over the limit of one
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmScreen) and app.screen.confirm_label is None,
        )
        notice = app.screen
        await pilot.pause()
        assert "Close (esc)" in screen_text(app)
        shown = {
            (app.get_key_display(active.binding), active.binding.description)
            for active in notice.active_bindings.values()
            if active.binding.show and active.node is notice
        }
        assert shown == {("esc", "Close")}, shown
        await pilot.press("n")  # not a key of this dialog
        await pilot.pause()
        assert app.screen is notice
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)


async def test_a_from_date_after_to_says_so(make_app, staff, services, admin, add_payer, firm):
    firm.invoice("INV-100", day="2026-02-10")
    connect(services, admin)
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddAssociationsScreen))
        screen = app.screen
        screen.set_focus(screen.query_one("#date-from", Input))
        await pilot.press(*"2026-03-01", "tab", *"2026-02-01")
        error = screen.query_one("#filter-error")
        await until(pilot, lambda: error.display)
        assert str(error.render()) == (
            "From 2026-03-01 is after To 2026-02-01: no invoice can match; swap them."
        )
        await pilot.press("backspace", "0")  # To 2026-02-00 is no date: that error instead
        await pilot.press(*["backspace"] * 5, *"12-31")  # To 2026-12-31: a valid range
        await until(pilot, lambda: not error.display)


async def test_pasted_text_past_the_limit_is_cut_with_a_warning(make_app, staff, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        name = screen.query_one("#name", Input)
        screen.set_focus(name)
        name.value = ""
        app.post_message(events.Paste("x" * 250))
        await until(pilot, lambda: len(name.value) == 200)
        assert toasts(app)[-1] == "Name holds at most 200 characters: 50 characters left out."

        phone = screen.query_one("#phone", Input)
        screen.set_focus(phone)
        phone.value = ""
        app.post_message(events.Paste("555 0100\nmobile: 555 0199\n"))
        await until(pilot, lambda: phone.value == "555 0100")
        assert toasts(app)[-1] == (
            "Phone is one line: only the first line of the pasted text was kept (1 more left out)."
        )
