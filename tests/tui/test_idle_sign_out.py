"""Idle sign-out: after ``idle_sign_out_minutes`` without a key the app goes back to the
sign-in screen, says why and what was discarded, and audits it. Time is a hand-moved
monotonic clock and the app looks at it every 10 ms: nothing waits 30 minutes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from textual import events
from textual.widgets import Input

from clientpay_tui.app import ClientPayApp
from clientpay_tui.mail.capture import LoopbackSmtpServer
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_form import NewPayerScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.screens.sign_in import SignInScreen
from clientpay_tui.seeding import demo_data
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.widgets.textual_compat import timer_names
from tests.tui.conftest import emails_to, open_details, payer_row, until
from tests.tui.test_mail_delivery import grant, sender_for
from tests.unit.mail.conftest import RecordingHandler

MINUTE = 60.0


class Ticker:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, minutes: float) -> None:
        self.seconds += minutes * MINUTE


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


def sign_outs(services: Services, admin) -> list[tuple[str, str]]:
    return [
        (entry.actor, entry.summary)
        for entry in services.audit.recent(admin)
        if entry.action == "staff.sign_out"
    ]


def notice(app: ClientPayApp) -> str:
    return str(app.screen.query_one("#sign-in-notice").render())


async def next_checks(app: ClientPayApp, pilot, count: int = 2) -> None:
    """Wait until the app has looked at the idle time ``count`` more times."""
    start = app.idle_checks
    await until(pilot, lambda: app.idle_checks >= start + count)


async def sign_in(app: ClientPayApp, pilot, password: str = "correct horse battery") -> None:
    assert isinstance(app.screen, SignInScreen)
    await pilot.press(*password, "enter")
    await until(pilot, lambda: isinstance(app.screen, PayerListScreen))


async def test_idle_past_the_limit_signs_out_says_why_and_audits(
    make_app, staff, services, admin, ticker
):
    app = make_app(staff, idle_clock=ticker, idle_check_seconds=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        ticker.advance(30)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert app.session is None
        assert len(app.screen_stack) == 2  # the default screen and the sign-in screen
        assert notice(app) == (
            "Signed out after 30 minutes without a key press. Everything saved is kept."
        )
        assert app.screen.query_one("#username", Input).value == "sam"
        await until(pilot, lambda: sign_outs(services, admin))
        assert sign_outs(services, admin) == [("sam", "Signed out after 30 minutes idle")]

        # A new sign-in works as usual, and its idle time counts from the sign-in.
        await sign_in(app, pilot)
        assert app.session is not None and app.session.actor.username == "sam"
        await next_checks(app, pilot)
        assert isinstance(app.screen, PayerListScreen)
        ticker.advance(31)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        await until(pilot, lambda: len(sign_outs(services, admin)) == 2)


async def test_a_key_before_the_limit_starts_the_count_again(make_app, staff, ticker):
    app = make_app(staff, idle_clock=ticker, idle_check_seconds=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        ticker.advance(29)
        await pilot.press("x")  # into the search box: inputs count too
        ticker.advance(29)  # 58 minutes since sign-in, 29 since the key
        await next_checks(app, pilot)
        assert isinstance(app.screen, PayerListScreen)
        assert app.session is not None
        ticker.advance(1)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))


async def test_a_key_inside_a_dialog_counts(make_app, staff, ticker, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff, idle_clock=ticker, idle_check_seconds=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.press("l")  # the grant dialog
        await until(pilot, lambda: app.screen is not screen)
        dialog = app.screen
        ticker.advance(20)
        await pilot.press("tab")
        ticker.advance(20)
        await next_checks(app, pilot)
        assert app.screen is dialog
        ticker.advance(10)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert len(app.screen_stack) == 2


async def test_a_mouse_event_counts(make_app, staff, ticker):
    app = make_app(staff, idle_clock=ticker, idle_check_seconds=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        ticker.advance(29)
        # As the terminal driver delivers it (Pilot's own mouse helpers skip the app).
        app.post_message(events.MouseMove(None, 5, 5, 1, 0, 0, False, False, False))
        await until(pilot, lambda: app.idle.last_input == ticker())
        ticker.advance(29)
        await next_checks(app, pilot)
        assert isinstance(app.screen, PayerListScreen)
        ticker.advance(1)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))


async def test_zero_means_never(db, settings, clock, staff, ticker):
    services = Services(db, settings.model_copy(update={"idle_sign_out_minutes": 0}), clock)
    app = ClientPayApp(
        services, actor=staff, handle_sighup=False, idle_clock=ticker, idle_check_seconds=0.01
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        ticker.advance(10 * 24 * 60)
        assert not app.idle.expired()
        assert "idle sign-out" not in timer_names(app)
        await pilot.press("x")
        assert isinstance(app.screen, PayerListScreen)
        assert app.idle_checks == 0


async def test_unsaved_payer_edits_are_discarded_and_named(
    make_app, staff, services, add_payer, ticker
):
    name = "Foo [/bar] & [b]Co[/b]"
    payer = add_payer(name, "foo@example.com")
    app = make_app(staff, idle_clock=ticker, idle_check_seconds=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        phone = screen.query_one("#phone", Input)
        phone.focus()
        await pilot.press(*"0123")
        assert screen.has_unsaved_changes()
        ticker.advance(30)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert not isinstance(app.screen, PayerDetailsScreen)
        assert notice(app) == (
            "Signed out after 30 minutes without a key press. Everything saved is kept; "
            f"unsaved changes to {name} were discarded."
        )
    assert payer_row(services, payer).phone is None


async def test_a_half_typed_new_payer_is_discarded_and_named(make_app, staff, services, ticker):
    app = make_app(staff, idle_clock=ticker, idle_check_seconds=0.01)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        app.push_screen(NewPayerScreen(app.session))
        await until(pilot, lambda: isinstance(app.screen, NewPayerScreen))
        await pilot.press(*"Grace")
        ticker.advance(31)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert "unsaved changes to the new payer Grace were discarded." in notice(app)
    assert not emails_to(services, "grace@example.com")


@pytest.fixture
async def smtp() -> AsyncIterator[LoopbackSmtpServer]:
    async with LoopbackSmtpServer(RecordingHandler()) as server:
        yield server


async def test_demo_mode_signs_out_the_same_and_mail_keeps_going(
    services, admin, clock, ticker, smtp
):
    demo_data.create_demo_data(services.ctx, payers=5)
    mailer = sender_for(services, clock, **smtp.settings_overrides())
    app = ClientPayApp(
        services,
        mailer,
        actor=demo_data.demo_admin(services.ctx),
        handle_sighup=False,
        idle_clock=ticker,
        idle_check_seconds=0.01,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        ticker.advance(30)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert "Signed out after 30 minutes" in notice(app)
        await until(pilot, lambda: sign_outs(services, admin))
        assert sign_outs(services, admin) == [
            (demo_data.DEMO_ADMIN, "Signed out after 30 minutes idle")
        ]
        assert app._mail_worker is not None and app._mail_worker.is_running

        await sign_in(app, pilot, demo_data.DEMO_PASSWORD)
        assert app.session is not None
        assert app.session.actor.username == demo_data.DEMO_ADMIN
        # Mail queued after the new sign-in goes out through the same, still-running mailer.
        payer = services.payers.create(
            app.session.actor,
            PayerForm(name="Idle Test", email="idle@example.com"),
        ).id
        await grant(app, pilot, payer)
        await until(pilot, lambda: len(smtp.handler.messages) >= 1)
        assert any(m.rcpt_tos == ["idle@example.com"] for m in smtp.handler.messages)
