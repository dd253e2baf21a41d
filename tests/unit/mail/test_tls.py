"""STARTTLS against a server whose certificate comes from a CA made in the test (trustme)."""

from __future__ import annotations

import ssl

import pytest
import trustme

from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail.delivery import Outcome
from clientpay_tui.mail.sender import SmtpSender


@pytest.fixture
def certificate_authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(make_smtp_server, certificate_authority):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    async with make_smtp_server(tls_context=context, require_starttls=True) as server:
        yield server


async def test_starttls_with_a_trusted_private_ca_delivers_over_tls(
    db, clock, tmp_path, smtp_settings, tls_server, certificate_authority, queue_emails, outbox_rows
):
    ca_file = tmp_path / "firm-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    settings = smtp_settings(tls_server, smtp_security="starttls", smtp_ca_file=ca_file)
    queue_emails(2)

    results = await SmtpSender(db, settings, clock=clock).deliver_due()

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert [m.tls for m in tls_server.handler.messages] == [True, True]
    assert {row.status for row in outbox_rows()} == {EmailStatus.SENT}


async def test_implicit_tls_delivers_over_tls(
    db, clock, tmp_path, smtp_settings, make_smtp_server, certificate_authority, queue_emails
):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "firm-ca.pem"
    certificate_authority.cert_pem.write_to_path(str(ca_file))
    queue_emails(1)

    async with make_smtp_server(implicit_tls=context) as server:
        settings = smtp_settings(server, smtp_security="tls", smtp_ca_file=ca_file)
        [result] = await SmtpSender(db, settings, clock=clock).deliver_due()

    assert result.outcome == Outcome.SENT
    assert [m.tls for m in server.handler.messages] == [True]


async def test_starttls_refuses_a_certificate_nobody_trusts(
    db, clock, smtp_settings, tls_server, queue_emails, outbox_rows
):
    queue_emails(1)
    settings = smtp_settings(tls_server, smtp_security="starttls")

    [result] = await SmtpSender(db, settings, clock=clock).deliver_due()

    assert result.outcome == Outcome.RETRY, "a TLS problem is the server's, not the email's"
    assert "CERTIFICATE_VERIFY_FAILED" in (result.error or "")
    assert tls_server.handler.messages == []
    assert outbox_rows()[0].status == EmailStatus.QUEUED


async def test_security_none_never_sends_in_clear_to_a_server_that_wants_tls(
    db, clock, smtp_settings, tls_server, queue_emails, outbox_rows
):
    """And starttls is never silently skipped: ``none`` means none, the server says no."""
    queue_emails(1)
    settings = smtp_settings(tls_server, smtp_security="none")

    [result] = await SmtpSender(db, settings, clock=clock).deliver_due()

    assert result.outcome == Outcome.RETRY, "a setting to correct, not the email's fault"
    assert "refused the sender billing@firm.test: 530" in (result.error or "")
    assert "STARTTLS" in (result.error or "")
    assert tls_server.handler.messages == []
    assert outbox_rows()[0].status == EmailStatus.QUEUED
