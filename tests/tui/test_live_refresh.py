"""Live refresh: what another session commits shows on the open list and details screens
within a second, the cursor stays on its payer, typing and unsaved edits are left alone, and
an action refused as stale reloads the screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import Input, Switch

from clientpay_tui.db.engine import Database
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import AccessStatus, PayerForm
from tests.tui.conftest import dialog, open_details, payer_row, screen_text, toasts, until

WITHIN = 1.0
"""Seconds, from the other session's commit: what the issue asks."""


@pytest.fixture
def elsewhere(database_url: str, settings, clock) -> Iterator[Services]:
    """Another staff session: its own engine on the same database, as another process."""
    db = Database(database_url)
    yield Services(db, settings, clock)
    db.dispose()


async def test_the_list_shows_another_sessions_changes_and_keeps_the_cursor(
    make_app, staff, add_payer, elsewhere: Services, admin: Actor
) -> None:
    for name in ("Bea Brown", "Dan Dunn", "Fay Fox"):
        add_payer(name, f"{name.split()[0].lower()}@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, PayerListScreen)
        table = screen.table
        await table.wait_loaded()
        await pilot.press("down")
        assert table.highlighted is not None and table.highlighted.name == "Dan Dunn"
        dan = table.highlighted.id

        # A payer sorted above the cursor appears; the cursor stays on Dan.
        elsewhere.payers.create(admin, PayerForm(name="Abe Adams", email="abe@example.com"))
        await until(pilot, lambda: table.row_count == 4, WITHIN)
        assert "Abe Adams" in screen_text(app)
        assert "4 payers" in screen_text(app)
        await until(pilot, lambda: table.highlighted is not None, WITHIN)
        assert table.highlighted.id == dan and table.cursor_row == 2

        # Dan is granted access elsewhere: his status changes in place.
        elsewhere.access.grant(admin, dan)
        await until(
            pilot,
            lambda: (
                table.highlighted is not None and table.highlighted.status == AccessStatus.INVITED
            ),
            WITHIN,
        )
        assert table.highlighted.id == dan

        # Someone is typing a search when a change arrives: the search box and its results
        # are left as typed.
        await pilot.press("slash", *"fa")
        elsewhere.payers.create(admin, PayerForm(name="Fab Fenn", email="fab@example.com"))
        await until(pilot, lambda: table.row_count == 2, WITHIN)
        assert screen.query_one("#search", Input).value == "fa"
        assert {table.row_at(i).name for i in range(2)} == {"Fay Fox", "Fab Fenn"}


async def test_details_follow_another_session_without_touching_unsaved_edits(
    make_app, staff, add_payer, services, elsewhere: Services, admin: Actor
) -> None:
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        switch = screen.query_one("#login-access", Switch)
        assert switch.value is False

        elsewhere.access.grant(admin, payer)
        await until(pilot, lambda: switch.value is True, WITHIN)
        assert screen.detail.status == AccessStatus.INVITED
        assert "Invited on" in str(screen.query_one("#access-status").render())

        # Unsaved edits stay; the screen says the record changed under them.
        phone = screen.query_one("#phone", Input)
        phone.focus()
        await pilot.pause()
        await pilot.press(*"555")
        version = payer_row(services, payer).version
        elsewhere.payers.update(admin, payer, version, PayerForm("Ada King", "ada@example.com"))
        await until(pilot, lambda: screen.detail.name == "Ada King", WITHIN)
        assert phone.value == "555"
        assert screen.query_one("#name", Input).value == "Ada Lovelace"  # my view, unsaved
        assert "changed elsewhere" in str(screen.query_one("#dirty-marker").render())
        assert "Changed elsewhere; your edits are kept." in toasts(app)


async def test_an_action_refused_as_stale_reloads_the_screen(
    make_app, staff, add_payer, elsewhere: Services, admin: Actor
) -> None:
    payer = add_payer("Grace Hopper", "grace@example.com")
    app = make_app(staff, live_refresh=False)  # the screen cannot know about the grant
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        elsewhere.access.grant(admin, payer)
        assert screen.detail.login is None
        await pilot.press("l")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.login is not None)
        assert "Grace Hopper already has login access." in toasts(app)
        assert screen.query_one("#login-access", Switch).value is True
        assert app.screen is screen


async def test_the_outbox_shows_mail_queued_by_another_session(
    make_app, staff, add_payer, elsewhere: Services, admin: Actor
) -> None:
    from clientpay_tui.screens.mail import MailScreen

    payer = add_payer("Alan Turing", "alan@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MailScreen))
        screen = app.screen
        await screen.outbox.wait_loaded()
        assert screen.outbox.row_count == 0
        elsewhere.access.grant(admin, payer)
        await until(pilot, lambda: screen.outbox.row_count == 1, WITHIN)
        assert "alan@example.com" in screen_text(app)
