"""The app runs the real SMTP sender: each delivery becomes a toast and updates the payer,
against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from textual.widgets import Button, Input

from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail.capture import LoopbackSmtpServer
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.widgets.textual_compat import toast_regions
from tests.tui.conftest import dialog, emails_to, notifications, open_details, toasts, until
from tests.unit.mail.conftest import RecordingHandler


@pytest.fixture
async def smtp() -> AsyncIterator[LoopbackSmtpServer]:
    async with LoopbackSmtpServer(RecordingHandler()) as server:
        yield server


def sender_for(services, clock, **smtp: object) -> SmtpSender:
    settings = services.settings.model_copy(
        update={"smtp_security": "none", "smtp_timeout": 2.0, **smtp}
    )
    return SmtpSender(services.db, settings, clock=clock, poll_seconds=60)


async def grant(app, pilot, payer: int) -> None:
    screen = await open_details(app, pilot, payer)
    await pilot.press("l")
    await dialog(app, pilot)
    await pilot.press("y")
    await until(pilot, lambda: screen.detail.login is not None)


async def test_sent_email_is_toasted_and_shown(make_app, staff, services, clock, add_payer, smtp):
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff, mailer=sender_for(services, clock, **smtp.settings_overrides()))
    async with app.run_test(size=(80, 24)) as pilot:
        await grant(app, pilot, payer)
        await until(pilot, lambda: "Welcome email sent to barbara@example.com." in toasts(app))
        screen = app.screen
        await until(pilot, lambda: "sent" in str(screen.query_one("#last-email").render()))
    [received] = smtp.handler.messages
    assert received.rcpt_tos == ["barbara@example.com"]
    [email] = emails_to(services, "barbara@example.com")
    assert email.status == EmailStatus.SENT


async def test_refused_email_is_an_error_toast_and_the_status_says_so(
    make_app, staff, services, clock, add_payer, smtp
):
    smtp.handler.rcpt_reply = "550 5.1.1 [no such user]"
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff, mailer=sender_for(services, clock, **smtp.settings_overrides()))
    async with app.run_test(size=(80, 24)) as pilot:
        await grant(app, pilot, payer)
        await until(pilot, lambda: any("failed" in t and "550" in t for t in toasts(app)))
        failed = [n for n in notifications(app) if "failed" in n.message]
        assert failed[0].severity == "error" and failed[0].markup is False
        assert "[no such user]" in failed[0].message  # literal, not markup
        screen = app.screen
        await until(
            pilot, lambda: "Email failed" in str(screen.query_one("#access-status").render())
        )
    [email] = emails_to(services, "barbara@example.com")
    assert email.status == EmailStatus.FAILED


async def test_unreachable_server_is_a_retry_warning_and_nothing_is_lost(
    make_app, staff, services, clock, add_payer, smtp
):
    port = smtp.port
    await smtp.stop()  # the mail server is down
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff, mailer=sender_for(services, clock, smtp_host="127.0.0.1", smtp_port=port))
    async with app.run_test(size=(80, 24)) as pilot:
        await grant(app, pilot, payer)
        await until(pilot, lambda: any("queued for retry" in t for t in toasts(app)))
        retry = [n for n in notifications(app) if "queued for retry" in n.message]
        assert retry[0].severity == "warning"
    [email] = emails_to(services, "barbara@example.com")
    assert email.status == EmailStatus.QUEUED
    assert email.last_error


async def test_quitting_while_an_email_is_sent_waits_for_its_answer(
    make_app, staff, services, clock, add_payer, smtp
):
    """Exiting at once would give the email back, and it would go out again later."""
    smtp.handler.keep_before_answer = True  # the server has the message …
    smtp.handler.data_gate = asyncio.Event()  # … and answers when the test says so
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    # The client waits for the held answer up to smtp_timeout: 2 s ran out on a loaded machine
    # before the test's ctrl+q was handled (the send failed, so there was nothing to wait for).
    mailer = sender_for(services, clock, **smtp.settings_overrides(), smtp_timeout=20.0)
    app = make_app(staff, mailer=mailer)
    async with app.run_test(size=(80, 24)) as pilot:
        await grant(app, pilot, payer)
        await until(pilot, lambda: smtp.handler.data_started == 1)
        await pilot.press("ctrl+q")
        await pilot.pause()  # the key is handled: the app would be gone now without the wait
        assert app.is_running, "waits for the server's answer"
        smtp.handler.data_gate.set()
        await until(pilot, lambda: not app.is_running)
    [email] = emails_to(services, "barbara@example.com")
    assert email.status == EmailStatus.SENT
    assert len(smtp.handler.messages) == 1


async def test_the_details_toasts_cover_no_field_and_no_button(
    make_app, staff, services, clock, add_payer, smtp
):
    """Queued, then sent: both toasts name the Email field's address, so at 80x24 they sit
    under the buttons, above the footer, not over the fields (issue 15 item 6)."""
    payer = add_payer("Barbara Liskov", "barbara@example.com")
    app = make_app(staff, mailer=sender_for(services, clock, **smtp.settings_overrides()))
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await grant(app, pilot, payer)
        await until(pilot, lambda: "Welcome email sent to barbara@example.com." in toasts(app))
        screen = app.screen
        await until(pilot, lambda: len(toast_regions(screen)) == 2)
        await pilot.pause()
        covered = [
            widget.id
            for widget in (*screen.query(Input), *screen.query(Button))
            if widget.display
            and any(toast.overlaps(widget.region) for toast in toast_regions(screen))
        ]
        assert covered == []
