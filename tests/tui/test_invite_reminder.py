"""The app session's own mail sender sends due invitation reminders (wired as
``clientpay-tui`` wires it), against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from clientpay_tui.cli.run import open_configured
from clientpay_tui.db.models import EmailKind, EmailStatus
from clientpay_tui.db.types import utcnow
from clientpay_tui.mail.capture import LoopbackSmtpServer
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from tests.conftest import FrozenClock
from tests.tui.conftest import RecordingApp, emails_to, toasts, until
from tests.unit.mail.conftest import RecordingHandler


@pytest.fixture
async def smtp() -> AsyncIterator[LoopbackSmtpServer]:
    async with LoopbackSmtpServer(RecordingHandler()) as server:
        yield server


async def test_the_app_session_sends_a_due_reminder(
    monkeypatch, database_url, db, settings, admin, staff, smtp
):
    mail = {"smtp_security": "none", **smtp.settings_overrides()}
    # The app runs on the real clock: the invitation went out four days ago.
    past = FrozenClock(utcnow() - timedelta(days=4))
    then = Services(db, settings.model_copy(update=mail), past)
    payer = then.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
    then.access.grant(admin, payer.id)
    await SmtpSender(db, then.settings, clock=past).deliver_due()  # the welcome email
    for name, value in {
        "DATABASE_URL": database_url,
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        "PORTAL_URL": settings.portal_url,
        "MAIL_FROM": settings.mail_from,
    }.items():
        monkeypatch.setenv(f"CLIENTPAY_{name}", value)

    app = RecordingApp(open_services=lambda: open_configured(None), handle_sighup=False)
    async with app.run_test(size=(80, 24)) as pilot:
        # Still on the sign-in screen: the session's sender runs from the start.
        await until(pilot, lambda: len(smtp.handler.messages) == 2, seconds=20)
        sent = EmailStatus.SENT
        await until(pilot, lambda: emails_to(then, "ada@example.com")[-1].status == sent)
        await pilot.pause()
        # Nobody in this session asked for it: no toast (a flood after a bulk invite).
        assert not [t for t in toasts(app) if "ada@example.com" in t]
    assert app.services is not None
    app.services.db.dispose()
    [_welcome, reminder] = emails_to(then, "ada@example.com")
    assert (reminder.kind, reminder.status) == (EmailKind.INVITE_REMINDER, EmailStatus.SENT)
    assert len(smtp.handler.messages) == 2
