"""A database outage while mail goes out sends no email twice (issue 14, item 1).

The database is really taken away while a few hundred emails go to a real aiosmtpd server:
on PostgreSQL the test's private database refuses connections and its backends are
terminated; on SQLite a second connection holds the write lock (``BEGIN IMMEDIATE``) longer
than the sender's busy timeout. Results that cannot be stored must be kept and stored once the
database is back: a result lost leaves its row ``sending``, and the email goes out again when
the claim expires (simulated here by moving the clock past it and delivering again).
"""

from __future__ import annotations

import asyncio
import collections
import os
import sqlite3
import threading

from sqlalchemy import make_url

from clientpay_tui.db import engine
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail import claims
from clientpay_tui.mail.sender import SmtpSender
from tests.conftest import PG_ENV
from tests.unit.mail.conftest import until

COUNT = 300
OUTAGE_SECONDS = 3.0
BATCH = 20


def hold_database_away(database_url: str, started: threading.Event, seconds: float) -> None:
    """Make the database unusable for writers (SQLite) or everyone (PostgreSQL) for
    ``seconds``; set ``started`` once it is."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database
        connection = sqlite3.connect(url.database, timeout=10, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            started.set()
            threading.Event().wait(seconds)  # the outage itself, not a wait for something
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    admin = Database(os.environ[PG_ENV])
    name = url.database
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as sql:
            sql.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            try:
                sql.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %(name)s AND pid <> pg_backend_pid()",
                    {"name": name},
                )
                started.set()
                threading.Event().wait(seconds)
            finally:
                sql.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    finally:
        admin.dispose()


async def test_a_database_outage_while_sending_sends_no_email_twice(
    database_url, db, mail_settings, smtp_server, clock, queue_emails, outbox_rows, monkeypatch
):
    queue_emails(COUNT)
    # In production SQLite waits 10 s for the lock; the test's outage outlasts a shorter wait.
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    sender_db = Database(database_url)
    sender = SmtpSender(sender_db, mail_settings, clock=clock, batch_size=BATCH, poll_seconds=0.1)
    handler = smtp_server.handler
    running = asyncio.create_task(sender.run(lambda _result: None))
    try:
        await until(lambda: handler.data_started >= COUNT // 5)
        started = threading.Event()
        outage = asyncio.ensure_future(
            asyncio.to_thread(hold_database_away, database_url, started, OUTAGE_SECONDS)
        )
        await until(started.is_set)
        during = len(handler.messages)
        await until(outage.done, within=OUTAGE_SECONDS + 10)
        await outage
        sent_during_outage = len(handler.messages) - during
        # Everything arrives once the database is back; stopping stores what is left.
        await until(lambda: len(handler.messages) >= COUNT, within=30)
    finally:
        sender.stop()
        await asyncio.wait_for(running, 30)
        sender_db.dispose()

    # A row left "sending" would be taken over once its claim expires, and sent again.
    clock.advance(seconds=claims.claim_timeout(mail_settings.smtp_timeout).total_seconds() + 1)
    again = await SmtpSender(db, mail_settings, clock=clock).deliver_due()

    received = collections.Counter(handler.message_ids())
    twice = {message_id: n for message_id, n in received.items() if n > 1}
    assert not twice, f"{len(twice)} of {COUNT} emails went out more than once"
    assert again == []
    rows = outbox_rows()
    assert {row.status for row in rows} == {EmailStatus.SENT}
    assert set(received) == {row.message_id for row in rows}
    # While results could not be stored, at most the batch in hand went on.
    assert sent_during_outage <= BATCH


async def test_a_sender_stopped_during_an_outage_stores_its_results_once_it_can(
    database_url, db, mail_settings, smtp_server, clock, queue_emails, outbox_rows, monkeypatch
):
    """What the worker does on SIGTERM (and the app on a hang-up) while the database is away."""
    queue_emails(5)
    monkeypatch.setattr(engine, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    sender_db = Database(database_url)
    sender = SmtpSender(sender_db, mail_settings, clock=clock, batch_size=5, poll_seconds=0.1)
    handler = smtp_server.handler
    handler.data_gate = asyncio.Event()  # the first email waits for its answer
    running = asyncio.create_task(sender.run(lambda _result: None))
    await until(lambda: handler.data_started == 1)
    started = threading.Event()
    outage = asyncio.ensure_future(asyncio.to_thread(hold_database_away, database_url, started, 2))
    try:
        await until(started.is_set)
        sender.stop()
        handler.data_gate.set()  # accepted while the database is away
        await asyncio.wait_for(running, 20)
        assert outage.done(), "the sender waited for the database"
    finally:
        await outage  # the database is back before anything else runs
        if not running.done():
            running.cancel()
        sender_db.dispose()

    rows = outbox_rows()
    assert [row.status for row in rows] == [EmailStatus.SENT] + [EmailStatus.QUEUED] * 4
    assert [row.attempts for row in rows] == [1, 0, 0, 0, 0], "given back, not counted"
    assert handler.message_ids() == [rows[0].message_id]
