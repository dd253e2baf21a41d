"""A loopback SMTP server (aiosmtpd) for the demo and the tests, and reading what it caught.

The demo points the real aiosmtplib sender at :class:`CaptureServer`, so it exercises the same
code path as production; every message is saved as an ``.eml`` file::

    async with CaptureServer(data_dir / "mail") as capture:
        settings = load_settings(**capture.settings_overrides())
        ...  # run the app / the sender with these settings
    messages = list_captured(data_dir / "mail")  # newest first, for the Mail screen

Inside a Textual app, ``await capture.start()`` in ``on_mount`` (or around ``app.run_async()``)
and ``await capture.stop()`` on the way out do the same as the ``async with``.

The server runs on the caller's event loop (the app's own), bound to 127.0.0.1 on a free port.
It is started with ``loop.create_server`` rather than aiosmtpd's ``Controller``, which runs a
second loop in a thread and binds ``::1`` by default.
"""

from __future__ import annotations

import asyncio
import email.policy
import email.utils
import itertools
import os
import ssl
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

LOOPBACK = "127.0.0.1"
SERVER_NAME = "clientpay-capture.localhost"
"""The name the server gives itself (aiosmtpd would otherwise look up the host's FQDN, which
blocks the event loop on every connection)."""


class LoopbackSmtpServer:
    """An aiosmtpd server on ``127.0.0.1`` inside the running event loop.

    Args:
        handler: an aiosmtpd handler (``handle_RCPT``, ``handle_DATA`` … coroutines).
        port: 0 for a free port (read it from :attr:`port`).
        tls_context: offer STARTTLS with this server-side context.
        require_starttls: refuse mail until the client has started TLS.
        implicit_tls: speak TLS from the first byte (SMTPS) with this context instead.
    """

    def __init__(
        self,
        handler: Any,
        *,
        port: int = 0,
        tls_context: ssl.SSLContext | None = None,
        require_starttls: bool = False,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.handler = handler
        self.host = LOOPBACK
        self.port = port
        self._tls_context = tls_context
        self._require_starttls = require_starttls
        self._implicit_tls = implicit_tls
        self._server: asyncio.Server | None = None
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _protocol(self) -> SMTP:
        protocol = SMTP(
            self.handler,
            hostname=SERVER_NAME,
            ident="ClientPay capture",
            tls_context=self._tls_context,
            require_starttls=self._require_starttls,
            enable_SMTPUTF8=True,
            loop=asyncio.get_running_loop(),
        )
        self._connections.add(protocol)
        return protocol

    async def start(self) -> None:
        """Listen on 127.0.0.1 (on a free port unless one was given; see :attr:`port`)."""
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, self.host, self.port, ssl=self._implicit_tls
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close open connections (as a server going down would)."""
        if self._server is None:
            return
        self._server.close()
        for protocol in list(self._connections):
            if protocol.transport is not None:
                protocol.transport.close()
        self._connections.clear()
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> LoopbackSmtpServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    def settings_overrides(self) -> dict[str, Any]:
        """Settings that point the sender here: ``load_settings(**server.settings_overrides())``."""
        return {"smtp_host": self.host, "smtp_port": self.port, "smtp_security": "none"}


class SaveToFolder:
    """aiosmtpd handler that saves each message, as received, to ``folder/<time>-<n>.eml``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)
        self.saved = 0

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{next(self._numbers):06d}.eml"
        await asyncio.to_thread(_write_atomically, self.folder / name, content)
        self.saved += 1
        return "250 OK saved"


class CaptureServer(LoopbackSmtpServer):
    """The demo's mail server: accepts everything, saves each message in ``folder``."""

    def __init__(self, folder: Path, *, port: int = 0) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(SaveToFolder(folder), port=port)

    async def __aenter__(self) -> CaptureServer:
        await self.start()
        return self


def _write_atomically(path: Path, content: bytes) -> None:
    # A reader (the Mail screen) never sees half a file: write aside, then rename.
    partial = path.with_suffix(".part")
    partial.write_bytes(content)
    os.replace(partial, path)


@dataclass(frozen=True)
class CapturedMessage:
    """One saved message, as the Mail screen shows it."""

    path: Path
    sender: str
    to: str
    subject: str
    date: datetime | None
    text: str
    """The text/plain part (the HTML part is only in the file)."""
    message_id: str


def read_captured(path: Path) -> CapturedMessage:
    """Parse one saved ``.eml`` file."""
    with path.open("rb") as file:
        message = BytesParser(policy=email.policy.default).parse(file)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    date_header = message["Date"]
    try:
        date = email.utils.parsedate_to_datetime(str(date_header)) if date_header else None
    except (TypeError, ValueError):
        date = None
    return CapturedMessage(
        path=path,
        sender=str(message.get("From", "")),
        to=str(message.get("To", "")),
        subject=str(message.get("Subject", "")),
        date=date,
        text=body.get_content() if body is not None else "",  # type: ignore[attr-defined]
        message_id=str(message.get("Message-ID", "")),
    )


def list_captured(folder: Path, limit: int | None = None) -> list[CapturedMessage]:
    """The messages saved in ``folder``, newest first (blocking: call it from a thread).

    Text is returned as sent: callers display it with ``Text(...)`` / ``markup=False``.
    """
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)
    if limit is not None:
        paths = paths[:limit]
    return [read_captured(path) for path in paths]
