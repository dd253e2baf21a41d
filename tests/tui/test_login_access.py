"""The Login Access flow on the payer details screen, checked in the database and outbox."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Button, Switch

from clientpay_tui.db.models import EmailKind, EmailStatus, LoginStatus, PortalLogin
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from tests.tui.conftest import (
    dialog,
    dialog_text,
    emails_to,
    kinds,
    login_of,
    open_details,
    payer_row,
    screen_text,
    toasts,
    until,
)
from tests.waiting import settle_before_checking_nothing_happened


async def test_grant_names_the_address_and_queues_the_welcome_email(
    make_app, staff, services, add_payer
):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        switch = screen.query_one("#login-access", Switch)
        assert switch.value is False
        await pilot.press("l")
        confirm = await dialog(app, pilot)
        assert "barbara@example.com" in dialog_text(confirm)
        assert "Barbara Liskov" in dialog_text(confirm)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.login is not None)
        assert switch.value is True
        assert "Welcome email to barbara@example.com queued." in toasts(app)
        assert "Invited on" in str(screen.query_one("#access-status").render())
        assert str(screen.query_one("#reset", Button).label) == "Re-send Welcome"
    login = login_of(services, payer)
    assert login is not None and login.status == LoginStatus.INVITED
    emails = emails_to(services, "barbara@example.com")
    assert kinds(emails) == [EmailKind.WELCOME]
    assert emails[0].status == EmailStatus.QUEUED


async def test_cancel_leaves_the_switch_off_and_sends_nothing(make_app, staff, services, add_payer):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        switch = screen.query_one("#login-access", Switch)
        switch.focus()
        await pilot.press("space")  # flipping the switch itself asks too
        confirm = await dialog(app, pilot)
        assert switch.value is False  # not on while the question is open
        assert confirm.focused.id == "confirm"  # granting is not destructive
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        await pilot.press("l", "escape")  # escape cancels as well
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        await settle_before_checking_nothing_happened(pilot)
        assert switch.value is False
    assert login_of(services, payer) is None
    assert emails_to(services, "barbara@example.com") == []


async def test_delete_asks_with_focus_on_the_safe_choice(
    make_app, staff, services, add_payer, admin
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        assert screen.query_one("#delete-login", Button).display
        await pilot.press("d")
        confirm = await dialog(app, pilot)
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.focused.id == "cancel"
        assert "ada@example.com" in dialog_text(confirm)
        await pilot.press("enter")  # enter on the focused safe button keeps the login
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert login_of(services, payer) is not None
        await pilot.press("d")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: screen.detail.login is None)
        assert screen.query_one("#login-access", Switch).value is False
        assert not screen.query_one("#delete-login", Button).display
        assert "Deleted the login for ada@example.com." in toasts(app)
    assert login_of(services, payer) is None
    # The welcome email was still queued: deleting the login cancelled it.
    [welcome] = emails_to(services, "ada@example.com")
    assert welcome.status == EmailStatus.FAILED


async def test_switching_off_asks_before_deleting(make_app, staff, services, add_payer, admin):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.press("l")
        confirm = await dialog(app, pilot)
        assert "Delete the portal login" in dialog_text(confirm)
        await pilot.press("n")
        await settle_before_checking_nothing_happened(pilot)
        assert screen.query_one("#login-access", Switch).value is True
    assert login_of(services, payer) is not None


async def test_reset_re_sends_the_welcome_while_invited_and_resets_once_active(
    make_app, staff, services, add_payer, admin, clock
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    clock.advance(minutes=5)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.press("r")
        confirm = await dialog(app, pilot)
        assert confirm.title_text == "Re-send welcome email"
        await pilot.press("y")
        await until(pilot, lambda: len(emails_to(services, "ada@example.com")) == 2)
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert "Welcome email to ada@example.com queued." in toasts(app)

        # The payer accepts the invitation (as the portal would).
        with services.db.write() as session:
            from clientpay_tui.db.models import PortalLogin

            login = session.get(PortalLogin, screen.detail.login.login_id)
            login.status, login.accepted_at = LoginStatus.ACTIVE, clock()
        clock.advance(minutes=5)
        await screen.reload()
        assert str(screen.query_one("#reset", Button).label) == "Password Reset"
        await pilot.press("r")
        confirm = await dialog(app, pilot)
        assert confirm.title_text == "Password reset"
        await pilot.press("y")
        await until(pilot, lambda: len(emails_to(services, "ada@example.com")) == 3)
    assert kinds(emails_to(services, "ada@example.com")) == [
        EmailKind.WELCOME,
        EmailKind.WELCOME,
        EmailKind.RESET,
    ]


async def test_a_second_email_within_a_minute_asks_again(
    make_app, staff, services, add_payer, admin, clock
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    clock.advance(seconds=20)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer)
        await pilot.press("r")
        await dialog(app, pilot)
        await pilot.press("y")
        again = await dialog(app, pilot)
        await until(pilot, lambda: again.title_text == "An email was sent moments ago")
        assert "20 s ago" in dialog_text(again)
        assert "09:30:00 UTC" in dialog_text(again)
        await pilot.press("n")  # don't send
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        await settle_before_checking_nothing_happened(pilot)
        assert len(emails_to(services, "ada@example.com")) == 1
        await pilot.press("r")
        await dialog(app, pilot)
        await pilot.press("y")
        again = await dialog(app, pilot)
        await until(pilot, lambda: again.title_text == "An email was sent moments ago")
        await pilot.press("y")  # send anyway
        await until(pilot, lambda: len(emails_to(services, "ada@example.com")) == 2)


async def test_the_rate_limit_is_explained(make_app, staff, services, add_payer, admin, clock):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    for _ in range(4):
        clock.advance(minutes=2)
        services.access.send_reset(admin, payer)
    clock.advance(minutes=2)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer)
        await pilot.press("r")
        await dialog(app, pilot)
        await pilot.press("y")
        notice = await dialog(app, pilot)
        await until(pilot, lambda: notice.title_text == "No email sent")
        assert "the limit is 5" in dialog_text(notice)
        assert not notice.query("#confirm")
        await pilot.press("y")  # nothing to confirm: y does nothing
        assert app.screen is notice
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
    assert len(emails_to(services, "ada@example.com")) == 5


async def test_a_locked_login_is_unlocked_after_asking(make_app, staff, services, admin, add_payer):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    services.access.grant(admin, payer)
    now = services.ctx.clock()
    with services.ctx.db.write() as session:
        login = session.get(PortalLogin, payer_row(services, payer).login_id)
        assert login is not None
        login.failed_attempts, login.locked_until = 5, now + timedelta(minutes=15)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        assert "Locked until" in str(screen.query_one("#access-status").render())
        assert screen.query_one("#unlock", Button).display
        await pilot.press("u")
        confirm = await dialog(app, pilot)
        assert "Barbara Liskov" in dialog_text(confirm)
        await pilot.press("y")
        await until(pilot, lambda: "Unlocked the login for barbara@example.com." in toasts(app))
        await until(pilot, lambda: not screen.query_one("#unlock", Button).display)
        assert screen.check_action("unlock", ()) is False  # no longer offered
    login = login_of(services, payer)
    assert login is not None and login.locked_until is None and login.failed_attempts == 0
    assert services.audit.for_payer(admin, payer)[0].action == "access.unlock"


async def test_unlock_is_not_offered_for_a_login_that_is_not_locked(
    make_app, staff, services, admin, add_payer
):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    services.access.grant(admin, payer)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        assert not screen.query_one("#unlock", Button).display
        await pilot.press("u")
        await settle_before_checking_nothing_happened(pilot)
        assert isinstance(app.screen, PayerDetailsScreen)
        assert "Unlock" not in screen_text(app)
