"""Sign-in by SSH key in the app: the sign-in screen waits for the key's answer, a linked key
lands on the payer list, anything else asks for the password, and idle time after a key
sign-in ends the app (the SSH session) instead of showing the sign-in screen."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import Input

from clientpay_tui.app import ClientPayApp, Opened
from clientpay_tui.cli.run import open_configured
from clientpay_tui.db.models import Role
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.screens.sign_in import KEY_NOT_ACCEPTED, SignInScreen
from clientpay_tui.ssh_auth import VerifiedKeys
from tests.tui.conftest import until
from tests.tui.test_idle_sign_out import Ticker, sign_outs
from tests.unit.test_staff_keys import SAM, fp, make_key


@pytest.fixture
def key_sign_in(monkeypatch, services, admin, database_url):
    """sam has a linked key; the configured settings (environment) turn key sign-in on."""
    services.staff.add(admin, "sam", Role.STAFF, "correct horse battery")
    services.staff_keys.add(admin, "sam", SAM)
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    monkeypatch.setenv("CLIENTPAY_SSH_KEY_SIGN_IN", "true")
    monkeypatch.setenv("CLIENTPAY_IDLE_SIGN_OUT_MINUTES", "30")
    monkeypatch.setenv("CLIENTPAY_PORTAL_URL", "https://portal.test")


def key_app(fingerprints: list[str], ticker: Ticker, gate: threading.Event | None = None):
    def open_services() -> Opened:
        if gate is not None:
            assert gate.wait(10)
        return open_configured(None, VerifiedKeys(tuple(fingerprints), present=True))

    return ClientPayApp(
        firm_name="Firm",
        open_services=open_services,
        handle_sighup=False,
        checking_key=True,
        idle_clock=ticker,
        idle_check_seconds=0.01,
    )


async def test_a_linked_key_lands_on_the_list_and_idle_time_ends_the_app(
    key_sign_in, services, admin, capsys
):
    ticker, gate = Ticker(), threading.Event()
    app = key_app([fp(SAM)], ticker, gate)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SignInScreen)
            assert "Signing in with your SSH key" in str(
                screen.query_one("#sign-in-notice").render()
            )
            assert all(field.disabled for field in screen.query(Input))
            await pilot.press("x", "enter")  # nothing to type into while the key is checked
            gate.set()
            await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
            assert app.session is not None and app.session.actor.username == "sam"
            assert app.sub_title == "sam (staff)"
            assert app.signed_in_by_key
            ticker.advance(30)
            await until(pilot, lambda: app.return_code is not None)
        assert app.return_code == 0
        # The last line the SSH client shows (Textual wraps it at the terminal's width).
        assert " ".join(capsys.readouterr().err.split()) == (
            "Signed out after 30 minutes without a key press. Everything saved is kept. "
            "The SSH session ended."
        )
    finally:
        if app.services is not None:
            app.services.db.dispose()
    summaries = [e.summary for e in services.audit.recent(admin) if e.actor == "sam"]
    assert summaries == [
        "Signed out after 30 minutes idle; the SSH session ended",
        f"Signed in by SSH key {fp(SAM)}",
    ]
    assert sign_outs(services, admin) == [
        ("sam", "Signed out after 30 minutes idle; the SSH session ended")
    ]


async def test_an_unknown_key_asks_for_the_password_and_idle_time_signs_out(
    key_sign_in, services, admin
):
    ticker = Ticker()
    app = key_app([fp(make_key(9))], ticker)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(
                pilot,
                lambda: KEY_NOT_ACCEPTED in str(app.screen.query_one("#sign-in-notice").render()),
            )
            screen = app.screen
            assert isinstance(screen, SignInScreen)
            assert not any(field.disabled for field in screen.query(Input))
            assert app.focused is screen.query_one("#username", Input)
            await pilot.press(*"sam", "enter", *"correct horse battery", "enter")
            await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
            assert not app.signed_in_by_key
            ticker.advance(30)
            await until(pilot, lambda: isinstance(app.screen, SignInScreen))
            assert app.return_code is None  # a password session goes back to the sign-in screen
    finally:
        if app.services is not None:
            app.services.db.dispose()
    assert [e.summary for e in services.audit.recent(admin) if e.actor == "sam"][-1] == "Signed in"


async def test_an_auth_file_that_is_not_believed_is_audited_and_asks_for_the_password(
    key_sign_in, services, admin
):
    opened = open_configured(None, VerifiedKeys(refused="/tmp/x is not ours", present=True))
    try:
        assert opened.key_actor is None
    finally:
        opened.services.db.dispose()
    [entry] = [e for e in services.audit.recent(admin) if e.action == "staff.sign_in_failed"]
    assert (entry.actor, entry.summary) == (
        "unknown",
        "Sign-in by SSH key not tried: /tmp/x is not ours",
    )
