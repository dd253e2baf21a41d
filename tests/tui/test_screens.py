"""Sign-in, the Associations tab with and without Connect, a new payer, the Mail screen."""

from __future__ import annotations

import threading

from textual import events
from textual.widgets import Input, TabbedContent, Tabs

from clientpay_tui.app import ClientPayApp, Opened
from clientpay_tui.db.models import EmailStatus, Role
from clientpay_tui.errors import SchemaOutdated
from clientpay_tui.screens.mail import MailScreen
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.screens.sign_in import SignInScreen
from clientpay_tui.seeding.seed import seed
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.candidates import CandidateFilter
from tests.tui.conftest import (
    connect,
    dialog,
    emails_to,
    open_details,
    payer_row,
    screen_text,
    toasts,
    until,
)
from tests.waiting import settle_before_checking_nothing_happened


async def sign_in(pilot, username: str, password: str) -> None:
    screen = pilot.app.screen
    screen.query_one("#username", Input).value = username
    screen.query_one("#password", Input).value = password
    await pilot.press("enter")


async def test_sign_in_carries_the_role_and_shows_who_is_signed_in(make_app, services, admin):
    services.staff.add(admin, "alex", Role.AGENT, "correct horse battery")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, "alex", "wrong password")
        error = app.screen.query_one("#sign-in-error")
        await until(pilot, lambda: "Wrong username or password." in str(error.render()))
        await sign_in(pilot, "alex", "correct horse battery")
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        assert app.session is not None and app.session.actor.role == Role.AGENT
        assert "alex (agent)" in screen_text(app).splitlines()[0]


async def test_lockout_is_shown_as_such(make_app, services, admin):
    services.staff.add(admin, "alex", Role.AGENT, "correct horse battery")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        error = app.screen.query_one("#sign-in-error")
        for _ in range(5):
            await sign_in(pilot, "alex", "nope nope nope")
            await until(
                pilot, lambda: not app.screen.busy and "Checking" not in str(error.render())
            )
        assert "Account locked." in str(error.render())
        await sign_in(pilot, "alex", "correct horse battery")  # even the right one, for now
        await until(pilot, lambda: "Account locked." in str(error.render()))
        await settle_before_checking_nothing_happened(pilot)
        assert isinstance(app.screen, SignInScreen)


async def test_associations_tab_follows_the_connect_integration(
    make_app, staff, services, admin, add_payer
):
    seed(services.ctx, admin, payers=0, invoices=20)
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        assert not screen.query("#associations-tab")
        assert "Associations" not in screen_text(app)
        await pilot.press("a")  # the key does nothing without Connect
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))

        connect(services, admin)
        services.associations.create(
            admin, payer, Level.CLIENT, Selection(matching=CandidateFilter())
        )
        screen = await open_details(app, pilot, payer)
        tabs = screen.query_one(TabbedContent)
        assert screen.query("#associations-tab")
        tabs.active = "associations-tab"
        pane = screen.panes["associations"]
        await until(pilot, lambda: pane.table.row_count >= 1)
        assert "Client C0000" in screen_text(app)


async def test_new_payer_is_created_and_opened(make_app, staff, services):
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: app.screen.query("#new-payer"))
        await pilot.press(*"Grace Hopper", "tab", *"grace@navy.example")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        payer = app.screen.detail.id
    row = payer_row(services, payer)
    assert (row.name, row.email) == ("Grace Hopper", "grace@navy.example")


async def test_new_payer_refuses_a_bad_address_in_one_line(make_app, staff):
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: app.screen.query("#new-payer"))
        await pilot.press(*"Grace", "tab", *"grace@", "ctrl+s")
        error = app.screen.query_one("#form-error")
        await until(pilot, lambda: "Invalid email address" in str(error.render()))
        assert app.screen.query_one("#email", Input).value == "grace@"
        await pilot.press("escape")
        await dialog(app, pilot)  # typed data is not dropped without asking


async def test_mail_screen_lists_the_outbox_and_retries_a_failed_email(
    make_app, staff, services, admin, add_payer
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    queued = services.access.grant(admin, payer)
    with services.db.write() as session:
        from clientpay_tui.db.models import OutboxEmail

        email = session.get(OutboxEmail, queued.email_id)
        email.status, email.attempts = EmailStatus.FAILED, 3
        email.last_error = "550 5.1.1 [mailbox] unavailable"
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await until(pilot, lambda: isinstance(app.screen, MailScreen))
        screen = app.screen
        await screen.outbox.wait_loaded()
        await until(pilot, lambda: "550 5.1.1 [mailbox] unavailable" in screen_text(app))
        text = screen_text(app)
        assert "ada@example.com" in text and "failed" in text
        assert "550 5.1.1 [mailbox] unavailable" in text
        await pilot.press("r")
        await until(
            pilot,
            lambda: (
                "Queued the welcome email to ada@example.com again, with a new link." in toasts(app)
            ),
        )
    [email] = emails_to(services, "ada@example.com")
    assert email.status == EmailStatus.QUEUED


async def test_typed_ahead_tabs_put_each_value_in_its_field(make_app, staff, services):
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await until(pilot, lambda: app.screen.query("#new-payer"))
        await pilot.pause()
        # All at once, as a laggy SSH link delivers a fast typist's keys.
        for key in [*"Ada", "tab", *"a@b.example", "tab", *"123"]:
            app.post_message(events.Key(key, key if len(key) == 1 else None))

        def values() -> list[str]:
            return [app.screen.query_one(f"#{n}", Input).value for n in ("name", "email", "phone")]

        await until(pilot, lambda: values()[2] == "123")
        assert values() == ["Ada", "a@b.example", "123"]


async def test_sign_in_typed_ahead_in_one_burst(make_app, services, admin):
    services.staff.add(admin, "alex", Role.AGENT, "correct horse battery")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key in [*"alex", "enter", *"correct horse battery", "enter"]:
            app.post_message(events.Key(key, key if len(key) == 1 else None))
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))


async def test_digits_go_straight_to_a_tab_but_type_into_fields(
    make_app, staff, services, admin, add_payer
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        tabs = screen.query_one(TabbedContent)
        await pilot.press("3")
        assert tabs.active == "preview-tab"
        await pilot.press("6")
        assert tabs.active == "activity-tab"
        assert isinstance(app.focused, Tabs)
        await pilot.press("1", "tab")  # into the Name field: digits are text there
        await pilot.press("end", "2")
        assert tabs.active == "info-tab"
        assert screen.query_one("#name", Input).value == "Ada Lovelace2"
        await pilot.press("9")  # no ninth tab: nothing happens
        assert tabs.active == "info-tab"


async def test_sign_in_typed_before_the_database_opens_waits_for_it(services, admin):
    """``clientpay-tui`` paints the sign-in screen first and opens the database behind it: a
    password typed and submitted before that finishes is checked once it has."""
    services.staff.add(admin, "alex", Role.AGENT, "correct horse battery")
    release = threading.Event()

    def open_services() -> Opened:
        assert release.wait(10)
        return Opened(services)

    app = ClientPayApp(firm_name="Early & Co", open_services=open_services, handle_sighup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        assert "Sign in to Early & Co" in screen_text(app)
        await sign_in(pilot, "alex", "correct horse battery")
        await until(
            pilot, lambda: "Checking" in str(app.screen.query_one("#sign-in-error").render())
        )
        assert app.services is None and isinstance(app.screen, SignInScreen)
        release.set()
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        # The validated settings' firm name replaces the early read.
        assert services.settings.firm_name != "Early & Co"
        assert app.title == f"ClientPay · {services.settings.firm_name}"


async def test_a_database_that_cannot_be_opened_ends_the_app_with_its_error():
    def open_services() -> Opened:
        raise SchemaOutdated("the database schema is at 0000 but this version needs 0001")

    app = ClientPayApp(firm_name="Firm", open_services=open_services, handle_sighup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1
    assert isinstance(app.startup_error, SchemaOutdated)
