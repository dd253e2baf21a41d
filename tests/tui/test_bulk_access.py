"""The payer list's status filter, selection and bulk grant / re-send, driven by keys."""

from __future__ import annotations

import threading

from clientpay_tui.db.models import EmailKind
from clientpay_tui.screens.bulk_flow import BulkSummaryScreen
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.services.payers import StatusFilter
from tests.tui.conftest import (
    dialog,
    dialog_text,
    emails_to,
    kinds,
    login_of,
    screen_text,
    toasts,
    until,
)


async def _list(app, pilot) -> PayerListScreen:
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, PayerListScreen)
    await screen.table.wait_loaded()
    return screen


async def test_f_cycles_the_status_filter_and_the_count_follows(
    make_app, staff, services, admin, add_payer
):
    add_payer("Ada Lovelace", "ada@example.com")
    grace = add_payer("Grace Hopper", "grace@example.com")
    services.access.grant(admin, grace)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _list(app, pilot)
        assert "Login: All" in screen_text(app) and "2 payers" in screen_text(app)
        await pilot.press("f")
        await until(pilot, lambda: "1 payer " in screen_text(app))
        assert screen.status == StatusFilter.NO_LOGIN
        assert "Login: No login" in screen_text(app) and "Ada Lovelace" in screen_text(app)
        await pilot.press("f")
        await until(pilot, lambda: "Grace Hopper" in screen_text(app))
        assert "Login: Invited" in screen_text(app) and "Ada Lovelace" not in screen_text(app)
        await pilot.press("f")
        await until(pilot, lambda: "0 payers" in screen_text(app))  # nobody's link expired


async def test_the_palette_names_each_filter(make_app, staff, add_payer):
    add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _list(app, pilot)
        names = [name for name, _help, _run in screen.palette_commands()]
        assert names == [f"Filter: {status.value}" for status in StatusFilter]
        [run] = [run for name, _h, run in screen.palette_commands() if "Locked" in name]
        run()
        await until(pilot, lambda: "Login: Locked" in screen_text(app))
        assert screen.status == StatusFilter.LOCKED


async def test_space_and_ctrl_a_select_and_g_grants_with_progress_and_summary(
    make_app, staff, services, add_payer
):
    ada = add_payer("Ada Lovelace", "ada@example.com")
    add_payer("Alan Turing", "alan@example.com")
    add_payer("Anne No Email", None)
    add_payer("Grace Hopper", "grace@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _list(app, pilot)
        await pilot.press("space")
        assert screen.picked.ids == {ada}
        assert "1 selected" in screen_text(app) and "✓ Ada Lovelace" in screen_text(app)
        await pilot.press("space")  # on the next row now: Alan
        assert len(screen.picked.ids) == 2
        await pilot.press("slash", "a")  # a search for "a" …
        await screen.table.wait_loaded()
        await pilot.press("ctrl+a")  # … all its matches, from the search box
        await until(pilot, lambda: "4 selected (all matching)" in screen_text(app))
        await pilot.press("escape", "g")
        confirm = await dialog(app, pilot)
        text = dialog_text(confirm)
        assert "Grant login access to 3 payers" in text and "3 addresses" in text
        assert "1: no email address" in text
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, BulkSummaryScreen), 20)
        summary = screen_text(app)
        assert "3 payers granted, 1 skipped" in summary
        assert "Anne No Email" in summary and "no email address" in summary
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen)
        assert screen.picked.is_empty
    assert kinds(emails_to(services, "grace@example.com")) == [EmailKind.WELCOME]
    assert login_of(services, ada) is not None


async def test_the_app_stays_usable_and_escape_stops_the_run(
    make_app, staff, services, add_payer, monkeypatch
):
    for n in range(6):
        add_payer(f"Payer {n}", f"p{n}@example.com")
    gate = threading.Event()
    grant = services.access.grant

    def slow_grant(*args, **kwargs):
        gate.wait(5)  # each payer waits for the test to let it go
        gate.clear()
        return grant(*args, **kwargs)

    monkeypatch.setattr(services.access, "grant", slow_grant)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _list(app, pilot)
        await pilot.press("ctrl+a", "g")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: screen.bulk.running)
        assert "Granting 0/6" in screen_text(app)
        await pilot.press("down", "down")  # the table still moves while the run goes on
        assert screen.table.cursor_row == 2
        gate.set()
        await until(pilot, lambda: "Granting 1/6" in screen_text(app))
        await pilot.press("escape")  # stop after the current payer
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, BulkSummaryScreen))
        assert "stopped, 4 not done" in screen_text(app)
        assert not any("not done" in t for t in toasts(app))  # the summary says it, not a toast


async def test_r_resends_only_expired_invitations(
    make_app, staff, services, admin, add_payer, clock
):
    old = add_payer("Olga Old", "olga@example.com")
    services.access.grant(admin, old)
    clock.advance(days=8)
    fresh = add_payer("Fred Fresh", "fred@example.com")
    services.access.grant(admin, fresh)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _list(app, pilot)
        await pilot.press("f", "f", "f")
        await until(pilot, lambda: screen.status == StatusFilter.INVITE_EXPIRED)
        await until(pilot, lambda: "1 payer " in screen_text(app))
        assert "Olga Old" in screen_text(app) and "Fred Fresh" not in screen_text(app)
        await pilot.press("ctrl+a", "r")
        confirm = await dialog(app, pilot)
        assert "Re-send the welcome email to 1 payer" in dialog_text(confirm)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, BulkSummaryScreen), 20)
    assert kinds(emails_to(services, "olga@example.com")) == [EmailKind.WELCOME] * 2
    assert kinds(emails_to(services, "fred@example.com")) == [EmailKind.WELCOME]


async def test_agents_may_resend_but_not_grant(make_app, agent, add_payer):
    add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list(app, pilot)
        await pilot.press("space", "g")
        await until(pilot, lambda: any("may grant login access" in t for t in toasts(app)))
        assert not isinstance(app.screen, ConfirmScreen)


async def test_g_without_a_selection_says_how_to_select(make_app, staff, add_payer):
    add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await _list(app, pilot)
        await pilot.press("g")
        await until(pilot, lambda: any("Select payers first" in t for t in toasts(app)))
