"""Invite follow-up: one reminder with a fresh link for an invitation not accepted after
``invite_reminder_days``, sent by whichever sender runs, once, audited; on both backends,
against a real aiosmtpd server."""

from __future__ import annotations

import asyncio
import collections
import os
import re
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import (
    AuditEvent,
    EmailKind,
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.db.types import utcnow
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services import tokens
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.reminders import REMINDER_ACTOR
from tests.conftest import FrozenClock

SUBJECT = "Reminder: Test & Partners invited you to the payment portal"


def _invite(services: Services, admin, name: str, email: str) -> int:  # type: ignore[no-untyped-def]
    payer = services.payers.create(admin, PayerForm(name=name, email=email))
    services.access.grant(admin, payer.id)
    return payer.id


def _sender(services: Services, mail_settings, clock) -> SmtpSender:  # type: ignore[no-untyped-def]
    return SmtpSender(services.db, mail_settings, clock=clock, chores=services.reminders.queue_due)


def _token(body: str) -> str:
    found = re.search(r"/welcome\?token=([A-Za-z0-9_\-]+)", body)
    assert found, body
    return found.group(1)


def _reminders(handler) -> list:  # type: ignore[no-untyped-def]
    return [m for m in handler.messages if m.message["Subject"] == SUBJECT]


def _token_problem(db: Database, raw: str, clock) -> tokens.TokenProblem | None:  # type: ignore[no-untyped-def]
    with db.read() as session:
        return tokens.check(session, raw, TokenPurpose.WELCOME, clock()).problem


async def test_one_reminder_with_a_fresh_link_after_the_days(
    services, admin, db, mail_settings, smtp_server, clock
):
    payer_id = _invite(services, admin, "Ada Lovelace", "ada@example.com")
    sender = _sender(services, mail_settings, clock)
    [_welcome] = await sender.deliver_due()
    first_link = _token(smtp_server.handler.messages[0].message.get_body(("plain",)).get_content())

    clock.advance(days=2, hours=23)
    assert await sender.deliver_due() == [], "not due before three days"

    clock.advance(hours=1)
    [result] = await sender.deliver_due()
    assert result.kind == EmailKind.INVITE_REMINDER and result.to_address == "ada@example.com"
    [reminder] = _reminders(smtp_server.handler)
    body = reminder.message.get_body(("plain",)).get_content()
    assert "Hello Ada Lovelace" in body and "02 Mar 2026" in body
    new_link = _token(body)
    assert new_link != first_link
    assert _token_problem(db, first_link, clock) == tokens.TokenProblem.REVOKED
    assert _token_problem(db, new_link, clock) is None

    with db.read() as session:
        events = session.execute(
            select(AuditEvent.actor, AuditEvent.payer_id, AuditEvent.summary).where(
                AuditEvent.action == "access.reminder"
            )
        ).all()
        reminded_at = session.scalars(select(PortalLogin.reminder_sent_at)).one()
    assert [(actor, payer) for actor, payer, _ in events] == [(REMINDER_ACTOR, payer_id)]
    assert "not accepted 3 days after the welcome email of 2026-03-02" in events[0][2]
    assert reminded_at == clock()

    clock.advance(days=8)  # the reminder's link expired too: still no second reminder
    assert await sender.deliver_due() == []
    assert len(_reminders(smtp_server.handler)) == 1
    # The payer's status and "last email" follow the reminder like any access email.
    assert services.payers.get(admin, payer_id).last_email.kind == EmailKind.INVITE_REMINDER


async def test_no_reminder_when_accepted_undelivered_too_old_or_turned_off(
    services, admin, db, mail_settings, smtp_server, clock
):
    accepted = _invite(services, admin, "Accepted", "accepted@example.com")
    _invite(services, admin, "Bounced", "bounced@example.com")
    sender = _sender(services, mail_settings, clock)
    await sender.deliver_due()
    with db.write() as session:
        login_id = session.get(Payer, accepted).login_id
        session.execute(
            update(PortalLogin).where(PortalLogin.id == login_id).values(status=LoginStatus.ACTIVE)
        )
        # The other welcome email failed for good: staff must look at the address first.
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.to_address == "bounced@example.com")
            .values(status=EmailStatus.FAILED, last_error="550 no such user")
        )
    late = _invite(services, admin, "Late", "late@example.com")
    await sender.deliver_due()

    off = _sender(
        Services(db, mail_settings.model_copy(update={"invite_reminder_days": 0}), clock),
        mail_settings,
        clock,
    )
    clock.advance(days=4)
    assert await off.deliver_due() == [], "0 turns reminders off"

    clock.advance(days=20)  # past the days plus the link's 7: too late to remind
    assert await sender.deliver_due() == []
    assert _reminders(smtp_server.handler) == []
    assert services.payers.get(admin, late).login is not None


async def test_the_reminder_is_cancelled_with_its_login(
    services, admin, db, mail_settings, smtp_server, clock
):
    payer_id = _invite(services, admin, "Ada Lovelace", "ada@example.com")
    await _sender(services, mail_settings, clock).deliver_due()
    clock.advance(days=3)
    assert services.reminders.queue_due() == 1
    services.access.delete_login(admin, payer_id)
    with db.read() as session:
        status, body = session.execute(
            select(OutboxEmail.status, OutboxEmail.body_text).where(
                OutboxEmail.kind == EmailKind.INVITE_REMINDER
            )
        ).one()
    assert status == EmailStatus.FAILED and body is None
    assert await _sender(services, mail_settings, clock).deliver_due() == []
    assert _reminders(smtp_server.handler) == []


async def test_two_senders_at_once_send_each_reminder_once(
    database_url, services, admin, mail_settings, smtp_server, clock
):
    count = 12
    for n in range(count):
        _invite(services, admin, f"Payer {n}", f"payer{n}@example.com")
    await _sender(services, mail_settings, clock).deliver_due()
    clock.advance(days=3, minutes=1)

    # Two processes' worth: separate engines, each sender on its own event loop, and both
    # scans held at a barrier so that they look for due invitations at the same moment.
    barrier = threading.Barrier(2, timeout=30)
    dbs = [Database(database_url), Database(database_url)]

    def make(db: Database) -> SmtpSender:
        own = Services(db, mail_settings, clock)

        def chores() -> int:
            barrier.wait()
            return own.reminders.queue_due()

        return SmtpSender(db, mail_settings, clock=clock, chores=chores, batch_size=5)

    senders = [make(db) for db in dbs]
    results: list[list] = [[], []]

    def run(index: int) -> None:
        results[index] = asyncio.run(senders[index].deliver_due())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            await asyncio.to_thread(thread.join, 60)
    finally:
        for db in dbs:
            db.dispose()

    assert not any(thread.is_alive() for thread in threads)
    received = collections.Counter(str(m.message["To"]) for m in _reminders(smtp_server.handler))
    assert len(received) == count and set(received.values()) == {1}, received
    assert len(results[0]) + len(results[1]) == count
    with services.db.read() as session:
        events = session.scalars(
            select(AuditEvent.payer_id).where(AuditEvent.action == "access.reminder")
        ).all()
    assert len(events) == len(set(events)) == count


async def test_the_worker_sends_due_reminders(
    database_url, services, admin, db, mail_settings, smtp_server
):
    # The worker runs on the real clock: the invitation went out four days ago.
    past = FrozenClock(utcnow() - timedelta(days=4))
    then = Services(db, services.settings, past)
    _invite(then, admin, "Ada Lovelace", "ada@example.com")
    await _sender(then, mail_settings, past).deliver_due()
    env = {
        **os.environ,
        "CLIENTPAY_DATABASE_URL": database_url,
        "CLIENTPAY_SMTP_HOST": smtp_server.host,
        "CLIENTPAY_SMTP_PORT": str(smtp_server.port),
        "CLIENTPAY_SMTP_SECURITY": "none",
        "CLIENTPAY_MAIL_FROM": mail_settings.mail_from,
        "CLIENTPAY_FIRM_NAME": mail_settings.firm_name,
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clientpay_tui", "worker", "--once",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(worker.communicate(), 30)
    assert worker.returncode == 0, err.decode()
    assert out.decode().startswith("sent    invite_reminder #"), out.decode()
    [reminder] = _reminders(smtp_server.handler)
    assert str(reminder.message["To"]) == "Ada Lovelace <ada@example.com>"


@pytest.mark.parametrize("days", [-1, 61])
def test_the_setting_is_bounded(days: int) -> None:
    from clientpay_tui.config import load_settings
    from clientpay_tui.errors import ConfigError

    with pytest.raises(ConfigError, match="invite_reminder_days"):
        load_settings(invite_reminder_days=days)
