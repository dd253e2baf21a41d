"""``SmtpSender.run`` as the app uses it: a poke delivers at once, stop and cancel lose nothing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail.delivery import DeliveryResult, Outcome
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services.payers import PayerForm
from tests.unit.mail.conftest import until


async def test_a_poke_delivers_at_once_and_stop_ends_the_loop(
    db, mail_settings, clock, services, admin, smtp_server, outbox_rows
):
    sender = SmtpSender(db, mail_settings, clock=clock, poll_seconds=60)
    results: list[DeliveryResult] = []
    running = asyncio.create_task(sender.run(results.append))
    await until(sender.idle.is_set)  # idle now, until a poke or a minute from now
    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com"))

    # The app grants in a thread worker and pokes from there.
    queued = await asyncio.to_thread(services.access.grant, admin, payer.id)
    threading.Thread(target=sender.poke).start()
    await until(lambda: results)

    assert [(r.email_id, r.outcome, r.payer_id) for r in results] == [
        (queued.email_id, Outcome.SENT, payer.id)
    ]
    assert outbox_rows()[0].status == EmailStatus.SENT, "reported once stored"
    sender.stop()
    await asyncio.wait_for(running, 5)


async def test_a_server_outage_is_reported_as_retry_and_a_poke_tries_again(
    db, smtp_settings, make_smtp_server, clock, queue_emails, outbox_rows
):
    async with make_smtp_server() as server:
        port = server.port
    sender = SmtpSender(db, smtp_settings(smtp_port=port), clock=clock, poll_seconds=60)
    results: list[DeliveryResult] = []
    queue_emails(1)
    running = asyncio.create_task(sender.run(results.append))
    await until(lambda: results)
    assert results[0].outcome == Outcome.RETRY

    async with make_smtp_server(port=port) as server:
        clock.advance(seconds=30)
        sender.poke()
        await until(lambda: len(results) == 2)
        sender.stop()
        await asyncio.wait_for(running, 5)

    assert results[1].outcome == Outcome.SENT
    assert len(server.handler.messages) == 1
    assert outbox_rows()[0].status == EmailStatus.SENT


async def test_cancelling_run_gives_back_every_unfinished_email(
    db, mail_settings, clock, smtp_server, queue_emails, outbox_rows
):
    """What happens when the app exits while mail is going out."""
    queue_emails(5)
    smtp_server.handler.data_delay = 0.3
    sender = SmtpSender(db, mail_settings, clock=clock)
    running = asyncio.create_task(sender.run(lambda _result: None))
    await until(lambda: smtp_server.handler.data_started >= 2)

    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    handler = smtp_server.handler
    await until(lambda: handler.data_ended == handler.data_started)  # the server is done too

    rows = outbox_rows()
    assert EmailStatus.SENDING not in {row.status for row in rows}
    sent = {row.message_id for row in rows if row.status == EmailStatus.SENT}
    received = set(smtp_server.handler.message_ids())
    assert sent <= received, "nothing marked sent that did not arrive"
    # An email cut off mid-transfer may have arrived and still be queued: sent again later,
    # with the same Message-ID (at least once, never lost).
    assert len(received - sent) <= 1
    queued = [row for row in rows if row.status == EmailStatus.QUEUED]
    assert len(sent) + len(queued) == 5 and queued
