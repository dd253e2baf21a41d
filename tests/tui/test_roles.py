"""Roles: an agent sees what it may not use disabled, with the reason; the services refuse
anyway, and their refusal is a toast."""

from __future__ import annotations

from textual.widgets import Button, Input, Switch

from clientpay_tui.db.models import EmailKind
from clientpay_tui.screens.commands import ScreenCommands
from clientpay_tui.screens.help import HelpScreen
from tests.tui.conftest import (
    dialog,
    emails_to,
    kinds,
    login_of,
    notifications,
    open_details,
    screen_text,
    toasts,
    until,
)
from tests.waiting import settle_before_checking_nothing_happened

REASON = "Only staff or above may grant login access; you are agent."


async def test_agent_sees_disabled_controls_with_the_reason(make_app, agent, services, add_payer):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        switch = screen.query_one("#login-access", Switch)
        assert switch.disabled and switch.tooltip == REASON
        save = screen.query_one("#save", Button)
        assert save.disabled
        assert save.tooltip == "Only staff or above may edit payers; you are agent."
        assert screen.query_one("#name", Input).disabled
        await pilot.press("l", "ctrl+s")
        await until(pilot, lambda: len(toasts(app)) >= 2)
        await settle_before_checking_nothing_happened(pilot)
        assert app.screen is screen  # no dialog opened
        # … and the keys say why, instead of doing nothing.
        assert toasts(app)[-2:] == [
            REASON,
            "Only staff or above may edit payers; you are agent.",
        ]
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert [e.note for e in app.screen.entries if e.key == "l"] == [REASON]
        assert "Only staff or above may grant login access;" in screen_text(app)
        await pilot.press("escape")
    assert login_of(services, payer) is None
    assert emails_to(services, "barbara@example.com") == []


async def test_agent_may_re_send_the_welcome_email(
    make_app, agent, services, add_payer, admin, clock
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    clock.advance(minutes=5)
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        assert not screen.query_one("#reset", Button).disabled
        assert screen.query_one("#delete-login", Button).disabled
        await pilot.press("d")
        await settle_before_checking_nothing_happened(pilot)
        assert app.screen is screen
        await pilot.press("r")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: len(emails_to(services, "ada@example.com")) == 2)
    assert kinds(emails_to(services, "ada@example.com")) == [EmailKind.WELCOME] * 2
    assert login_of(services, payer) is not None


async def test_palette_lists_the_screens_keys_and_refuses_with_the_reason(
    make_app, agent, add_payer
):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        provider = ScreenCommands(screen)
        hits = [hit async for hit in provider.search("toggle login")]
        [toggle] = [hit for hit in hits if hit.text == "Toggle Login Access (asks first)"]
        assert toggle.help == REASON
        toggle.command()
        await until(pilot, lambda: REASON in toasts(app))
        assert app.screen is screen  # refused: no dialog


async def test_a_refusal_by_the_service_is_a_toast(make_app, staff, services, add_payer, admin):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer)
        services.staff.set_disabled(admin, "sam", True)  # an admin disables sam meanwhile
        await pilot.press("l")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: "The staff account sam is disabled." in toasts(app))
        notification = notifications(app)[-1]
        assert notification.severity == "warning"
    assert login_of(services, payer) is None
