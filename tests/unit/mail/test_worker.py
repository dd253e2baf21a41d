"""``clientpay-tui worker``: one line per email, and a clean stop that loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail.sender import SmtpSender
from tests.unit.mail.conftest import until


@pytest.fixture
def worker_env(database_url, mail_settings, smtp_server):
    return {
        **os.environ,
        "CLIENTPAY_DATABASE_URL": database_url,
        "CLIENTPAY_SMTP_HOST": smtp_server.host,
        "CLIENTPAY_SMTP_PORT": str(smtp_server.port),
        "CLIENTPAY_SMTP_SECURITY": "none",
        "CLIENTPAY_MAIL_FROM": mail_settings.mail_from,
    }


async def _start_worker(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clientpay_tui", "worker", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.parametrize(
    "signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"]
)
async def test_worker_stops_on_a_signal_without_losing_a_claimed_email(
    worker_env,
    database_url,
    smtp_server,
    db,
    mail_settings,
    clock,
    queue_emails,
    outbox_rows,
    signum,
):
    if signum != signal.SIGTERM and database_url.startswith("postgresql"):
        pytest.skip("signal handling does not depend on the database: SIGTERM only")
    queue_emails(6)
    smtp_server.handler.data_delay = 0.4  # a slow server: the signal lands mid-email
    worker = await _start_worker(worker_env, "--poll", "0.1")
    try:
        await until(lambda: smtp_server.handler.data_started >= 2, within=20)
        worker.send_signal(signum)
        out, err = await asyncio.wait_for(worker.communicate(), 20)
    finally:
        if worker.returncode is None:
            worker.kill()

    assert worker.returncode == 0, err.decode()
    assert err.decode().rstrip().endswith("stopped")
    rows = outbox_rows()
    statuses = [row.status for row in rows]
    assert EmailStatus.SENDING not in statuses, "a claimed email was left behind"
    sent = [row for row in rows if row.status == EmailStatus.SENT]
    queued = [row for row in rows if row.status == EmailStatus.QUEUED]
    assert len(sent) + len(queued) == 6 and 2 <= len(sent) < 6
    assert sorted(smtp_server.handler.message_ids()) == sorted(row.message_id for row in sent)
    assert {row.attempts for row in queued} == {0}, "given back, not counted as tried"
    lines = out.decode().splitlines()
    assert len(lines) == len(sent)
    assert all(line.startswith("sent    welcome #") for line in lines)

    smtp_server.handler.data_delay = 0
    rest = await SmtpSender(db, mail_settings, clock=clock).deliver_due()
    assert len(rest) == len(queued)
    assert len(set(smtp_server.handler.message_ids())) == len(smtp_server.handler.messages) == 6


async def test_worker_once_delivers_what_is_due_and_logs_each_outcome(
    worker_env, smtp_server, queue_emails, outbox_rows
):
    queue_emails(2, to_address="ok{n}@example.com")
    queue_emails(1, to_address="nobody@example.com")
    refuse = smtp_server.handler.handle_RCPT

    async def handle_rcpt(server, session, envelope, address, options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        return await refuse(server, session, envelope, address, options)

    smtp_server.handler.handle_RCPT = handle_rcpt
    worker = await _start_worker(worker_env, "--once")
    out, err = await asyncio.wait_for(worker.communicate(), 30)

    assert worker.returncode == 0, err.decode()
    lines = sorted(out.decode().splitlines())
    assert len(lines) == 3
    assert lines[0].startswith("failed  welcome #3 to nobody@example.com: ")
    assert "550 5.1.1 no such user" in lines[0]
    assert lines[1].startswith("sent    welcome #1 to ok0@example.com")
    assert lines[2].startswith("sent    welcome #2 to ok1@example.com")
    assert [row.status for row in outbox_rows()] == [
        EmailStatus.SENT,
        EmailStatus.SENT,
        EmailStatus.FAILED,
    ]


async def test_worker_reports_a_bad_setting_in_one_line(tmp_path):
    env = {
        **os.environ,
        "CLIENTPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'clientpay.db'}",
        "CLIENTPAY_MAIL_FROM": "nonsense",
    }
    worker = await _start_worker(env, "--once")
    _, err = await asyncio.wait_for(worker.communicate(), 30)

    assert worker.returncode == 1
    assert err.decode().startswith("clientpay-tui: error: invalid setting mail_from")
    assert len(err.decode().strip().splitlines()) == 1
