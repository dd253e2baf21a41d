"""Editing a payer: save, validation, moving the login with the email, unsaved edits, and
someone else's concurrent save."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from clientpay_tui.db.models import EmailKind, EmailStatus
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.services.payers import PayerForm
from tests.tui.conftest import (
    dialog,
    dialog_text,
    emails_to,
    kinds,
    login_of,
    open_details,
    payer_row,
    toasts,
    until,
)


async def type_into(pilot, screen, field: str, text: str) -> None:
    field_input = screen.query_one(f"#{field}", Input)
    field_input.focus()
    await pilot.pause()
    field_input.value = ""
    await pilot.press(*text)


async def test_save_writes_the_fields(make_app, staff, services, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await type_into(pilot, screen, "phone", "+44 20 7946 0018")
        assert "unsaved" in str(screen.query_one("#dirty-marker").render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Saved." in toasts(app))
        assert not screen.has_unsaved_changes()
    assert payer_row(services, payer).phone == "+44 20 7946 0018"


async def test_invalid_email_is_one_clear_line_and_nothing_is_lost(
    make_app, staff, services, add_payer
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await type_into(pilot, screen, "email", "ada@@example")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Invalid email" in str(screen.query_one("#form-error").render()))
        assert screen.query_one("#email", Input).value == "ada@@example"  # kept for fixing
        assert screen.has_unsaved_changes()
    assert payer_row(services, payer).email == "ada@example.com"


async def test_changing_the_email_of_a_payer_with_a_login_offers_to_move_it(
    make_app, staff, services, add_payer, admin, clock
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    clock.advance(minutes=5)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await type_into(pilot, screen, "email", "ada@newmail.example")
        await pilot.press("ctrl+s")
        offer = await dialog(app, pilot)
        assert "ada@example.com" in dialog_text(offer)
        assert "ada@newmail.example" in dialog_text(offer)
        assert "ada@example.com is told" in " ".join(dialog_text(offer).split())
        assert offer.focused.id == "cancel"
        await pilot.press("n")  # not now: nothing saved, the edit stays
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert payer_row(services, payer).email == "ada@example.com"
        assert screen.has_unsaved_changes()
        await pilot.press("ctrl+s")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.email == "ada@newmail.example")
        assert any("login moved to ada@newmail.example" in t for t in toasts(app))
        assert any("ada@example.com is told" in t for t in toasts(app))
    login = login_of(services, payer)
    assert login is not None and login.email_key == "ada@newmail.example"
    assert kinds(emails_to(services, "ada@newmail.example")) == [EmailKind.WELCOME]
    old, notice = emails_to(services, "ada@example.com")
    assert old.status == EmailStatus.FAILED  # the unsent old invitation was cancelled
    assert (notice.kind, notice.status) == (EmailKind.LOGIN_MOVED, EmailStatus.QUEUED)


async def test_leaving_with_unsaved_edits_asks_first(make_app, staff, services, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await type_into(pilot, screen, "name", "Ada King")
        await pilot.press("escape")
        ask = await dialog(app, pilot)
        assert "Ada Lovelace" in dialog_text(ask)
        assert ask.focused.id == "cancel"
        await pilot.press("n")  # keep editing
        await until(pilot, lambda: app.screen is screen)
        assert screen.query_one("#name", Input).value == "Ada King"
        await pilot.press("escape")
        await dialog(app, pilot)
        await pilot.press("y")  # discard
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
    assert payer_row(services, payer).name == "Ada Lovelace"


async def test_quitting_with_unsaved_edits_asks_first(make_app, staff, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await type_into(pilot, screen, "name", "Ada King")
        await pilot.press("ctrl+q")
        ask = await dialog(app, pilot)
        assert "discards" in dialog_text(ask)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen)
        assert app.is_running
        await pilot.press("ctrl+q")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: not app.is_running)


async def test_someone_elses_save_is_reported_not_overwritten(
    make_app, staff, services, add_payer, make_actor
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await type_into(pilot, screen, "phone", "111")
        # Meanwhile a colleague saves the same payer.
        other = make_actor(staff.role, "kim")
        version = payer_row(services, payer).version
        services.payers.update(other, payer, version, PayerForm("Ada Lovelace", notes="VIP"))
        await pilot.press("ctrl+s")
        conflict = await dialog(app, pilot)
        assert conflict.title_text == "Someone else changed this payer"
        assert "kim" in dialog_text(conflict)
        await pilot.press("n")  # keep my edits on screen
        await until(pilot, lambda: app.screen is screen)
        assert screen.query_one("#phone", Input).value == "111"
        row = payer_row(services, payer)
        assert (row.phone, row.notes) == (None, "VIP")
        await pilot.press("ctrl+s")
        await dialog(app, pilot)
        await pilot.press("y")  # reload theirs
        await until(pilot, lambda: not screen.has_unsaved_changes())
        assert screen.query_one("#notes").text == "VIP"
        assert screen.query_one("#phone", Input).value == ""
    assert payer_row(services, payer).notes == "VIP"


async def test_save_right_after_typing_saves_every_character(make_app, staff, services, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        screen.query_one("#phone", Input).focus()
        await pilot.pause()
        for key in [*"555 0100", "ctrl+s"]:  # at once, as a laggy link delivers them
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await until(pilot, lambda: "Saved." in toasts(app))
        assert not screen.has_unsaved_changes()
    assert payer_row(services, payer).phone == "555 0100"
