"""End to end: the installed ``clientpay-tui`` in a real pseudo-terminal at 80x24, driven by
keystrokes, sending through a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import AccessToken, EmailStatus, OutboxEmail
from clientpay_tui.mail.capture import LoopbackSmtpServer
from tests.e2e.terminal import (
    PASSWORD,
    DetachedTerminal,
    Terminal,
    environment,
    installed_command,
)
from tests.unit.mail.conftest import RecordingHandler
from tests.waiting import until_sync


class Inbox:
    """The mail tests' recording aiosmtpd server on 127.0.0.1, on its own thread's loop
    (this test is synchronous: it waits on the terminal)."""

    def __init__(self) -> None:
        self.handler = RecordingHandler()
        self.server = LoopbackSmtpServer(self.handler)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        return [received.message for received in self.handler.messages]

    def __enter__(self) -> Inbox:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(5)
        return self

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def wait(self, count: int, seconds: float = 15.0) -> None:
        """Wait for ``count`` messages; fail after ``seconds``."""
        until_sync(lambda: len(self.handler.messages) >= count, seconds, f"{count} message(s)")


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with Inbox() as server:
        yield server


@pytest.mark.slow
def test_sign_in_search_grant_and_the_welcome_email_arrives(
    tmp_path: Path, firm_database: str, inbox: Inbox
) -> None:
    env = environment(
        tmp_path,
        database_url=firm_database,
        smtp_host="127.0.0.1",
        smtp_port=str(inbox.port),
        smtp_security="none",
        portal_url="https://portal.e2e.test",
        mail_from="Firm <billing@firm.test>",
        firm_name="E2E & Partners",
    )
    terminal = Terminal([installed_command()], env, tmp_path)
    try:
        terminal.wait_for("Sign in to E2E & Partners")
        terminal.press("sam", "enter", PASSWORD, "enter")
        screen = terminal.wait_for("2 payers")
        assert "sam (staff)" in screen
        terminal.press("/", "lisk")
        terminal.wait_for("1 payer")
        terminal.press("enter")
        terminal.wait_for("Login Access")
        terminal.wait_for("None: switch on to invite")
        terminal.press("l")
        screen = terminal.wait_for("Grant login access")
        assert "barbara@example.com" in screen
        terminal.press("y")
        terminal.wait_for("Invited on")
        inbox.wait(1)
        terminal.wait_for("sent to barbara@example.com")
        terminal.press("ctrl+q")
        assert terminal.wait_exit() == 0
    finally:
        if terminal.child.isalive():
            terminal.child.terminate(force=True)

    [message] = inbox.messages
    assert message["To"].addresses[0].addr_spec == "barbara@example.com"
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = next(word for word in body.split() if word.startswith("https://portal.e2e.test/"))
    token = parse_qs(urlparse(link).query)["token"][0]
    db = Database(firm_database)
    with db.read() as session:
        stored = session.scalar(
            select(AccessToken).where(
                AccessToken.token_hash == hashlib.sha256(token.encode()).hexdigest()
            )
        )
        assert stored is not None and stored.used_at is None
        sent = session.scalars(select(OutboxEmail)).one()
        assert sent.status == EmailStatus.SENT
    db.dispose()


@pytest.mark.slow
def test_a_dropped_connection_ends_the_app_cleanly(tmp_path: Path, firm_database: str) -> None:
    env = environment(tmp_path, database_url=firm_database)
    terminal = Terminal([installed_command()], env, tmp_path)
    terminal.wait_for("Sign in to")
    terminal.press("sam")
    # The SSH session goes away: the terminal closes and the kernel sends SIGHUP.
    terminal.hang_up()
    assert terminal.child.signalstatus is None, "killed by the signal instead of exiting"
    assert terminal.child.exitstatus == 129


@pytest.mark.slow
def test_a_terminal_that_closes_without_a_hang_up_signal_ends_the_app(
    tmp_path: Path, firm_database: str
) -> None:
    env = environment(tmp_path, database_url=firm_database)
    terminal = DetachedTerminal([installed_command()], env, tmp_path)
    try:
        terminal.wait_for("Sign in to")
        terminal.type("sam")
        terminal.close()
        # Its input hangs up: the app ends as on SIGHUP, instead of reading end-of-file in a
        # loop forever with the database open.
        assert terminal.process.wait(timeout=10) == 129
    finally:
        terminal.kill()
    db = Database(firm_database)
    with db.read() as session:
        assert session.scalars(select(OutboxEmail)).all() == []  # nothing half-done
    db.dispose()
