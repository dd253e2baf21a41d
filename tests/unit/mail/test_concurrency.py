"""Two senders on one outbox deliver every email exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
import threading

from sqlalchemy import func, select

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailStatus, OutboxEmail
from clientpay_tui.db.types import utcnow
from clientpay_tui.mail.delivery import Outcome
from clientpay_tui.mail.sender import SmtpSender

COUNT = 500


def _assert_each_delivered_once(smtp_server, outbox_rows) -> collections.Counter[str]:
    rows = outbox_rows()
    assert len(rows) == COUNT
    assert {row.status for row in rows} == {EmailStatus.SENT}
    assert {row.attempts for row in rows} == {1}
    received = collections.Counter(smtp_server.handler.message_ids())
    assert len(received) == COUNT, "every email arrived"
    assert set(received.values()) == {1}, "and none twice"
    assert set(received) == {row.message_id for row in rows}
    return collections.Counter(row.claimed_by for row in rows)


def _unsent(db: Database) -> int:
    with db.read() as session:
        query = select(func.count()).where(OutboxEmail.status != EmailStatus.SENT)
        return int(session.scalar(query) or 0)


async def test_two_senders_in_two_threads_deliver_each_email_once(
    database_url, mail_settings, smtp_server, queue_emails, outbox_rows
):
    queue_emails(COUNT)
    # Separate Database objects (engines and pools), each sender on its own event loop.
    db_a, db_b = Database(database_url), Database(database_url)
    a = SmtpSender(db_a, mail_settings, clock=utcnow, batch_size=10)
    b = SmtpSender(db_b, mail_settings, clock=utcnow, batch_size=10)
    smtp_server.handler.data_delay = 0.001  # a little server time, so the senders overlap
    from_b: list = []
    started = threading.Event()

    def run_b() -> None:
        started.set()
        from_b.extend(asyncio.run(b.deliver_due()))

    thread = threading.Thread(target=run_b)
    thread.start()
    started.wait()
    try:
        from_a = await a.deliver_due()
        await asyncio.to_thread(thread.join, 60)
    finally:
        db_a.dispose()
        db_b.dispose()

    assert not thread.is_alive()
    assert {r.outcome for r in from_a + from_b} == {Outcome.SENT}
    ids_a, ids_b = {r.email_id for r in from_a}, {r.email_id for r in from_b}
    assert not ids_a & ids_b
    assert len(ids_a | ids_b) == COUNT
    senders = _assert_each_delivered_once(smtp_server, outbox_rows)
    assert senders == {a.name: len(ids_a), b.name: len(ids_b)}
    assert min(senders.values()) > 0, f"both senders took part: {senders}"


async def test_the_worker_process_and_an_app_sender_deliver_each_email_once(
    database_url, db, mail_settings, smtp_server, queue_emails, outbox_rows
):
    env = {
        **os.environ,
        "CLIENTPAY_DATABASE_URL": database_url,
        "CLIENTPAY_SMTP_HOST": smtp_server.host,
        "CLIENTPAY_SMTP_PORT": str(smtp_server.port),
        "CLIENTPAY_SMTP_SECURITY": "none",
        "CLIENTPAY_MAIL_FROM": mail_settings.mail_from,
    }
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clientpay_tui", "worker", "--poll", "0.05",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert b"delivering via" in await asyncio.wait_for(worker.stderr.readline(), 20)
        # The app sender starts once the worker is sending, with enough server time per email
        # that the worker cannot drain the queue alone first: the worker's claims are of a
        # batch, so the rest must stay claimable.
        smtp_server.handler.data_delay = 0.005
        queue_emails(COUNT)
        first = await asyncio.wait_for(worker.stdout.readline(), 30)
        assert first.startswith(b"sent "), first
        app_sender = SmtpSender(db, mail_settings, clock=utcnow, batch_size=10)
        from_app = await app_sender.deliver_due()
        for _ in range(400):  # the worker may still be finishing its last batch
            if await asyncio.to_thread(_unsent, db) == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(worker.communicate(), 20)

    assert worker.returncode == 0, err.decode()
    senders = _assert_each_delivered_once(smtp_server, outbox_rows)
    lines = [first.decode(), *out.decode().splitlines()]
    worker_lines = [line for line in lines if line.startswith("sent ")]
    assert senders[app_sender.name] == len(from_app)
    assert sum(senders.values()) - len(from_app) == len(worker_lines)
    assert len(senders) == 2 and min(senders.values()) > 0, (
        f"both took part: {senders} app={app_sender.name} err={err.decode()[-2000:]}"
    )
