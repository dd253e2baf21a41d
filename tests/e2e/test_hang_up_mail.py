"""A dropped SSH connection while an email is going out (issue 14, item 2): the installed
``clientpay-tui`` in a real pseudo-terminal, a real SMTP server on 127.0.0.1 that has the
message but is slow to say so, and SIGHUP from the kernel when the terminal goes away."""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from clientpay_tui.config import load_settings
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailStatus, OutboxEmail, Payer
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from tests.e2e.terminal import Terminal, environment, installed_command
from tests.e2e.test_terminal import Inbox
from tests.waiting import until_sync

ANSWER_DELAY = 1.5
"""How long the server sits on the message before it answers (well within SMTP_TIMEOUT)."""


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox() as server:
        yield server


@pytest.mark.slow
def test_a_hang_up_while_an_email_is_sent_records_it_and_it_goes_out_once(
    tmp_path: Path, firm_database: str, inbox: Inbox
) -> None:
    mail = {
        "smtp_host": "127.0.0.1",
        "smtp_port": str(inbox.port),
        "smtp_security": "none",
        "mail_from": "Firm <billing@firm.test>",
    }
    settings = load_settings(database_url=firm_database, **mail)
    db = Database(firm_database)
    services = Services(db, settings)
    with db.read() as session:
        ada = session.scalars(select(Payer.id).where(Payer.name == "Ada Lovelace")).one()
    services.access.grant(command_line_actor("e2e"), ada)  # a welcome email is queued
    inbox.handler.keep_before_answer = True
    inbox.handler.data_delay = ANSWER_DELAY

    env = environment(tmp_path, database_url=firm_database, **mail)
    terminal = Terminal([installed_command()], env, tmp_path)
    process = terminal.child.ptyproc
    try:
        terminal.wait_for("Sign in to")  # the app delivers the outbox behind the sign-in
        until_sync(lambda: inbox.handler.data_started == 1, 15, "the email to reach the server")
        # The SSH session goes away mid-send: the terminal closes and the kernel sends SIGHUP.
        process.fileobj.close()
        process.closed = terminal.child.closed = True
        until_sync(lambda: not process.isalive(), ANSWER_DELAY + 15, "the app to exit")
        assert process.signalstatus is None, "killed by the signal instead of exiting"
        assert process.exitstatus == 129
    finally:
        if process.isalive():
            process.kill(9)

    with db.read() as session:
        [row] = session.scalars(select(OutboxEmail)).all()
        session.expunge(row)
    assert row.status == EmailStatus.SENT, f"{row.status}: {row.last_error}"
    assert row.attempts == 1 and row.body_text is None
    # Whatever any sender does later, the email does not go out again.
    inbox.handler.data_delay = 0
    assert asyncio.run(SmtpSender(db, settings).deliver_due()) == []
    db.dispose()
    received = collections.Counter(str(m["Message-ID"]) for m in inbox.messages)
    assert received == {row.message_id: 1}
