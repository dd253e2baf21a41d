"""Delivery against a real aiosmtpd server: content, retries, permanent failures, takeovers."""

from __future__ import annotations

import hashlib
import re
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import (
    AccessToken,
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.errors import ConfigError
from clientpay_tui.mail import claims
from clientpay_tui.mail.delivery import DeliveryResult, Outcome
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services.payers import AccessStatus, PayerForm

TOKEN = r"[A-Za-z0-9_-]{43}"


def _parts(message):
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    return parts[0].get_content(), parts[1].get_content()


def _token_row(db, payer_id: int, purpose: TokenPurpose, raw: str) -> AccessToken:
    with db.read() as session:
        login_id = session.get(Payer, payer_id).login_id
        row = session.scalars(
            select(AccessToken).where(
                AccessToken.token_hash == hashlib.sha256(raw.encode()).hexdigest()
            )
        ).one()
        assert row.login_id == login_id
        assert row.purpose == purpose
        assert row.used_at is None and row.revoked_at is None
        session.expunge(row)
        return row


async def test_welcome_email_arrives_with_both_parts_and_a_working_link(
    services, admin, sender, smtp_server, db, clock, outbox_rows
):
    payer = services.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
    queued = services.access.grant(admin, payer.id)

    results = await sender.deliver_due()

    assert [(r.email_id, r.outcome, r.to_address) for r in results] == [
        (queued.email_id, Outcome.SENT, "ada@example.com")
    ]
    [received] = smtp_server.handler.messages
    assert received.rcpt_tos == ["ada@example.com"]
    assert received.mail_from == "billing@firm.test"
    message = received.message
    assert message["To"].addresses[0].display_name == "Ada Lovelace"
    assert message["To"].addresses[0].addr_spec == "ada@example.com"
    assert message["From"].addresses[0].addr_spec == "billing@firm.test"
    assert message["Subject"] == "Test & Partners: create your password for the payment portal"
    assert message["Date"].datetime == clock()
    text, html = _parts(message)
    [raw] = re.findall(rf"https://portal\.test/welcome\?token=({TOKEN})", text)
    assert f"https://portal.test/welcome?token={raw}" in html
    assert "Hello Ada Lovelace" in text and "Test &amp; Partners" in html
    assert "https://portal.test/login" in text
    token = _token_row(db, payer.id, TokenPurpose.WELCOME, raw)
    assert token.expires_at == clock() + timedelta(days=7)

    [row] = outbox_rows()
    assert row.status == EmailStatus.SENT
    assert row.sent_at == clock()
    assert row.attempts == 1
    assert row.message_id == message["Message-ID"]
    assert row.body_text is None and row.body_html is None, "the live link must not stay stored"
    assert row.subject == message["Subject"] and row.to_address == "ada@example.com"
    assert services.payers.get(admin, payer.id).status == AccessStatus.INVITED


async def test_reset_email_arrives_with_a_working_reset_link(
    services, admin, sender, smtp_server, db, clock, outbox_rows
):
    payer = services.payers.create(admin, PayerForm(name="Grace Hopper", email="grace@example.com"))
    services.access.grant(admin, payer.id)
    await sender.deliver_due()
    with db.write() as session:  # the payer accepted the invitation
        login = session.get(PortalLogin, session.get(Payer, payer.id).login_id)
        login.status = LoginStatus.ACTIVE
        login.accepted_at = clock()
    clock.advance(minutes=5)

    queued = services.access.send_reset(admin, payer.id)
    results = await sender.deliver_due()

    assert [(r.email_id, r.outcome) for r in results] == [(queued.email_id, Outcome.SENT)]
    received = smtp_server.handler.messages[-1]
    assert received.rcpt_tos == ["grace@example.com"]
    assert received.message["Subject"] == "Test & Partners: reset your payment portal password"
    text, html = _parts(received.message)
    [raw] = re.findall(rf"https://portal\.test/reset\?token=({TOKEN})", text)
    assert f"https://portal.test/reset?token={raw}" in html
    token = _token_row(db, payer.id, TokenPurpose.RESET, raw)
    assert token.expires_at == clock() + timedelta(hours=1)
    assert outbox_rows()[-1].status == EmailStatus.SENT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_dead_server_keeps_mail_queued_until_it_comes_up(
    db, clock, smtp_settings, make_smtp_server, queue_emails, outbox_rows
):
    port = _free_port()
    sender = SmtpSender(db, smtp_settings(smtp_port=port), clock=clock)
    [email_id] = queue_emails(1)

    [result] = await sender.deliver_due()

    assert result.outcome == Outcome.RETRY
    assert result.next_attempt_at == clock() + timedelta(seconds=30)
    assert "cannot connect to the mail server 127.0.0.1" in (result.error or "")
    [row] = outbox_rows()
    assert (row.status, row.attempts, row.next_attempt_at) == (
        EmailStatus.QUEUED,
        1,
        clock() + timedelta(seconds=30),
    )
    assert row.body_text is not None
    assert await sender.deliver_due() == [], "not due again before the backoff"

    async with make_smtp_server(port=port) as server:
        clock.advance(seconds=30)
        [result] = await sender.deliver_due()

    assert (result.email_id, result.outcome) == (email_id, Outcome.SENT)
    assert len(server.handler.messages) == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts, row.last_error) == (EmailStatus.SENT, 2, None)


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt_reply", "550 5.1.1 <x@example.com>: no such user"), ("data_reply", "554 5.7.1 spam")],
)
async def test_permanent_refusal_marks_the_email_failed_and_it_can_be_retried(
    services, admin, sender, smtp_server, outbox_rows, stage, reply
):
    payer = services.payers.create(admin, PayerForm(name="Bad Box", email="x@example.com"))
    services.access.grant(admin, payer.id)
    setattr(smtp_server.handler, stage, reply)

    [result] = await sender.deliver_due()

    assert result.outcome == Outcome.FAILED
    assert reply in (result.error or "")
    [row] = outbox_rows()
    assert row.status == EmailStatus.FAILED
    assert reply in (row.last_error or "")
    assert row.body_text is not None, "kept, so staff can retry it"
    assert smtp_server.handler.messages == []
    assert services.payers.get(admin, payer.id).status == AccessStatus.EMAIL_FAILED
    assert await sender.deliver_due() == [], "a failed email is not retried by itself"

    services.outbox.retry(admin, row.id)
    setattr(smtp_server.handler, stage, None)
    [result] = await sender.deliver_due()

    assert result.outcome == Outcome.SENT
    assert [m.rcpt_tos for m in smtp_server.handler.messages] == [["x@example.com"]]
    assert outbox_rows()[0].status == EmailStatus.SENT


async def test_temporary_refusal_is_retried_with_growing_waits(
    sender, smtp_server, clock, queue_emails, outbox_rows
):
    queue_emails(1)
    smtp_server.handler.data_reply = "451 4.3.0 greylisted, try again later"

    [first] = await sender.deliver_due()
    clock.advance(seconds=30)
    [second] = await sender.deliver_due()

    assert first.outcome == second.outcome == Outcome.RETRY
    assert "451 4.3.0 greylisted" in (second.error or "")
    assert second.next_attempt_at == clock() + timedelta(seconds=60)
    [row] = outbox_rows()
    assert (row.status, row.attempts) == (EmailStatus.QUEUED, 2)
    assert "451" in (row.last_error or "")

    smtp_server.handler.data_reply = None
    clock.advance(seconds=59)
    assert await sender.deliver_due() == []
    clock.advance(seconds=1)
    [third] = await sender.deliver_due()

    assert third.outcome == Outcome.SENT
    assert len(smtp_server.handler.messages) == 1
    assert (outbox_rows()[0].status, outbox_rows()[0].attempts) == (EmailStatus.SENT, 3)


def test_backoff_doubles_up_to_an_hour():
    waits = [claims.backoff(n).total_seconds() for n in range(1, 10)]
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


async def test_temporary_failures_end_in_failed_after_the_last_attempt(
    sender, smtp_server, db, queue_emails, outbox_rows
):
    [email_id] = queue_emails(1)
    with db.write() as session:
        session.get(OutboxEmail, email_id).attempts = claims.MAX_ATTEMPTS - 1
    smtp_server.handler.data_reply = "421 4.7.0 too busy, closing"

    [result] = await sender.deliver_due()

    assert result.outcome == Outcome.FAILED
    assert result.error.startswith(f"gave up after {claims.MAX_ATTEMPTS} attempts: ")
    assert "421 4.7.0 too busy" in result.error
    assert outbox_rows()[0].status == EmailStatus.FAILED


async def test_a_dead_senders_claim_is_taken_over_after_the_timeout(
    sender, smtp_server, db, clock, mail_settings, queue_emails, outbox_rows
):
    [email_id] = queue_emails(1)
    now = clock()
    [held] = claims.claim(db, sender="crashed", now=now, stale_before=now, limit=5)
    assert held.id == email_id

    assert await sender.deliver_due() == [], "a fresh claim belongs to its sender"
    clock.advance(seconds=claims.claim_timeout(mail_settings.smtp_timeout).total_seconds() + 1)
    [result] = await sender.deliver_due()

    assert (result.email_id, result.outcome) == (email_id, Outcome.SENT)
    [row] = outbox_rows()
    assert (row.status, row.attempts, row.claimed_by) == (EmailStatus.SENT, 2, sender.name)
    assert len(smtp_server.handler.messages) == 1
    # The crashed sender, come back to life, cannot overwrite the outcome.
    late = DeliveryResult(email_id, None, held.kind, held.to_address, Outcome.RETRY, "x", now)
    assert claims.record(db, [late], sender="crashed", now=now) == {email_id}
    assert outbox_rows()[0].status == EmailStatus.SENT


async def test_mail_from_must_be_one_address(db, mail_settings):
    with pytest.raises(ConfigError, match="mail_from"):
        SmtpSender(db, mail_settings.model_copy(update={"mail_from": "not an address"}))
