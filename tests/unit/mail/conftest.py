"""Mail fixtures: a real aiosmtpd server on 127.0.0.1 (never a mock of the SMTP client),
settings pointing at it, a sender, and a quick way to fill the outbox."""

from __future__ import annotations

import asyncio
import email.policy
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser

import pytest
from sqlalchemy import select

from clientpay_tui.config import Settings
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailKind, OutboxEmail
from clientpay_tui.mail import outbox
from clientpay_tui.mail.capture import LoopbackSmtpServer
from clientpay_tui.mail.compose import compose
from clientpay_tui.mail.sender import SmtpSender
from tests.waiting import until_async


async def until(condition: Callable[[], object], within: float = 10.0) -> None:
    """Wait on the running loop until ``condition()`` is true; fail after ``within`` seconds."""
    await until_async(condition, within)


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    message: EmailMessage
    tls: bool


class RecordingHandler:
    """Keeps every accepted message; can be told to refuse, or to take its time."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.rcpt_reply: str | None = None
        """e.g. ``"550 5.1.1 no such user"``: refuse every recipient with this."""
        self.data_reply: str | None = None
        """e.g. ``"451 4.3.0 try later"``: refuse every message after DATA with this."""
        self.data_delay = 0.0
        self.data_gate: asyncio.Event | None = None
        """When set: each DATA waits for this event before the server answers."""
        self.data_started = 0
        self.data_ended = 0
        """DATA commands answered, or cut off by the client hanging up."""
        self.keep_before_answer = False
        """Keep each message as soon as it has arrived, before the gate and delay: a server
        that has the message but has not said so yet."""

    async def handle_RCPT(self, _server, _session, envelope, address, _options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, _session, envelope):
        self.data_started += 1
        try:
            return await self._answer_DATA(server, envelope)
        finally:  # also when the client hangs up and aiosmtpd cancels the handler
            self.data_ended += 1

    async def _answer_DATA(self, server, envelope):
        if self.keep_before_answer:
            self._keep(server, envelope)
        if self.data_gate is not None:
            await self.data_gate.wait()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.data_reply:
            return self.data_reply
        if not self.keep_before_answer:
            self._keep(server, envelope)
        return "250 OK queued"

    def _keep(self, server, envelope) -> None:
        raw = envelope.original_content
        parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), raw, parsed, tls)
        )

    def message_ids(self) -> list[str]:
        return [str(m.message["Message-ID"]) for m in self.messages]


@pytest.fixture
def make_smtp_server() -> Callable[..., LoopbackSmtpServer]:
    """``make_smtp_server(port=…, tls_context=…)``: a recording server, not started yet."""

    def make(**options: object) -> LoopbackSmtpServer:
        return LoopbackSmtpServer(RecordingHandler(), **options)

    return make


@pytest.fixture
async def smtp_server(make_smtp_server) -> AsyncIterator[LoopbackSmtpServer]:
    async with make_smtp_server() as server:
        yield server


@pytest.fixture
def smtp_settings(settings: Settings) -> Callable[..., Settings]:
    """``smtp_settings(server, **more)``: the test settings pointed at ``server`` (or at
    ``smtp_port=…`` given in ``more``), with a short timeout so failures are quick."""

    def make(server: LoopbackSmtpServer | None = None, **more: object) -> Settings:
        target = server.settings_overrides() if server else {"smtp_host": "127.0.0.1"}
        update = {**target, "smtp_security": "none", "smtp_timeout": 3.0, **more}
        return settings.model_copy(update=update)

    return make


@pytest.fixture
def mail_settings(smtp_settings, smtp_server: LoopbackSmtpServer) -> Settings:
    return smtp_settings(smtp_server)


@pytest.fixture
def sender(db: Database, mail_settings: Settings, clock) -> SmtpSender:
    return SmtpSender(db, mail_settings, clock=clock, batch_size=20)


QueueEmails = Callable[..., list[int]]


@pytest.fixture
def queue_emails(db: Database, settings: Settings, clock) -> QueueEmails:
    """Put ``count`` welcome emails in the outbox in one transaction; returns their ids."""

    def queue(
        count: int, *, to_name: str = "Payer {n}", to_address: str = "payer{n}@example.com"
    ) -> list[int]:
        ids = []
        with db.write() as session:
            for n in range(count):
                name = to_name.format(n=n)
                composed = compose(
                    EmailKind.WELCOME,
                    firm_name=settings.firm_name,
                    payer_name=name,
                    portal_url=settings.portal_url,
                    link=f"{settings.portal_url}/welcome?token=t{n}",
                    expires_at=clock(),
                )
                row = outbox.enqueue(
                    session,
                    composed,
                    to_address=to_address.format(n=n),
                    to_name=name,
                    payer_id=None,
                    requested_by="tester",
                    now=clock(),
                    mail_from=settings.mail_from,
                )
                ids.append(row.id)
        return ids

    return queue


@pytest.fixture
def outbox_rows(db: Database) -> Callable[[], list[OutboxEmail]]:
    """Read the whole outbox, oldest first."""

    def read() -> list[OutboxEmail]:
        with db.read() as session:
            rows = list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
            session.expunge_all()  # keep them readable after the read's rollback
            return rows

    return read
