"""One reusable aiosmtplib connection, and what each way of failing means for an email.

Failures are sorted into three kinds, because they call for different handling:

- *session* failures (cannot connect, TLS, EHLO or login refused, timeout while connecting,
  our sender address refused) say nothing about the email: every email waiting for this server
  would fail the same way.
  They are temporary, so a server that comes back or a corrected setting delivers the queue.
- *temporary* failures of one email (a 4xx reply, a timeout or dropped connection mid-way):
  retried later.
- *permanent* failures of one email (a 5xx reply, the recipient refused, an address the
  server cannot take): marked failed with the server's reply, for staff to look at.
"""

from __future__ import annotations

import asyncio
import socket
from email.message import EmailMessage

import aiosmtplib

from clientpay_tui.config import Settings
from clientpay_tui.mail.message import flatten
from clientpay_tui.text import one_line


class SendError(Exception):
    """Why an email was not accepted; ``str()`` is one line for people."""

    def __init__(self, reason: str, *, permanent: bool = False, session: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent
        self.session = session
        """The connection could not be set up: the same holds for every other email."""


class SmtpConnection:
    """A connection to the configured server, opened on first use and reopened when lost.

    Use as ``async with SmtpConnection(settings) as smtp: await smtp.send(message, …)``.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: aiosmtplib.SMTP | None = None
        self.where = f"{settings.smtp_host}:{settings.smtp_port}"

    def _new_client(self, local_hostname: str) -> aiosmtplib.SMTP:
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        # start_tls / use_tls are always given: None would mean "upgrade only if the server
        # offers it", which lets anyone in the path strip STARTTLS off the connection.
        return aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=password,
            timeout=settings.smtp_timeout,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            cert_bundle=str(settings.smtp_ca_file) if settings.smtp_ca_file else None,
            local_hostname=local_hostname,
        )

    async def __aenter__(self) -> SmtpConnection:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_exc: object) -> None:
        if exc_type is None:
            await self.close()
        else:  # cancelled or failed mid-conversation: no QUIT, the server may still be busy
            self.drop()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        self.drop()
        client = self._new_client(await _local_hostname())
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as error:
            raise SendError(
                f"the mail server {self.where} refused the login: {_reply(error)}", session=True
            ) from error
        except aiosmtplib.SMTPResponseException as error:
            raise SendError(
                f"the mail server {self.where} refused the connection: {_reply(error)}",
                session=True,
            ) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            raise SendError(
                f"cannot connect to the mail server {self.where}: {one_line(error)}", session=True
            ) from error
        self._client = client
        return client

    async def send(self, message: EmailMessage, *, sender: str, recipient: str) -> str:
        """Send one message to one recipient over the (re)used connection.

        Returns:
            The server's reply to the message, e.g. ``OK queued as 1234``.

        Raises:
            SendError: the server did not accept it; see the module docstring for the kinds.
        """
        client = await self._connected()
        # Flattened here rather than by send_message, which copies the whole message first to
        # drop Bcc (there is none). The bodies are 7-bit (see message.py), so only a non-ASCII
        # address needs SMTPUTF8; sendmail refuses that cleanly if the server lacks it.
        utf8 = not (sender + recipient).isascii()
        data = flatten(message, utf8=utf8)
        try:
            refused, reply = await client.sendmail(
                sender, [recipient], data, mail_options=["SMTPUTF8"] if utf8 else []
            )
        except aiosmtplib.SMTPSenderRefused as error:
            # Our own address refused (or "530 must start TLS / log in first"): the same for
            # every email, so a matter of configuration; retried, not blamed on this email.
            raise SendError(
                f"the mail server {self.where} refused the sender {sender}: {_reply(error)}",
                session=True,
            ) from error
        except aiosmtplib.SMTPRecipientsRefused as error:
            first = error.recipients[0]
            raise _reply_error(first.code, first.message, "refused the recipient") from error
        except aiosmtplib.SMTPResponseException as error:
            if error.code == 421:  # the server is closing this connection
                self.drop()
            raise _reply_error(error.code, error.message, "refused the email") from error
        except aiosmtplib.SMTPNotSupported as error:
            raise SendError(
                f"the mail server cannot take this email: {one_line(error)}", permanent=True
            ) from error
        except ValueError as error:  # an address aiosmtplib will not put on the wire
            raise SendError(
                f"the address cannot be sent to: {one_line(error)}", permanent=True
            ) from error
        except (aiosmtplib.SMTPException, OSError) as error:
            # Timeout or dropped connection before the server acknowledged the message: it
            # was not accepted (RFC 5321 4.1.1.4), so sending it again is right.
            self.drop()
            raise SendError(f"lost the mail server {self.where}: {one_line(error)}") from error
        # One recipient, so a partial refusal cannot happen; check anyway, since aiosmtplib
        # reports partial refusals in this dict instead of raising.
        if recipient in refused:
            response = refused[recipient]
            raise _reply_error(response.code, response.message, "refused the recipient")
        return one_line(reply)

    def drop(self) -> None:
        """Forget the current connection without saying goodbye (after an error)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    async def close(self) -> None:
        """Say QUIT and close; errors on the way out do not matter any more."""
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError):
            client.close()


_fqdn: list[str] = []


async def _local_hostname() -> str:
    """This host's name for EHLO, looked up once per process: ``socket.getfqdn`` can wait
    seconds for DNS, which would otherwise delay every connection."""
    if not _fqdn:
        _fqdn.append(await asyncio.to_thread(socket.getfqdn))
    return _fqdn[0]


def _reply(error: aiosmtplib.SMTPResponseException) -> str:
    return one_line(f"{error.code} {error.message}")


def _reply_error(code: int, message: str, what: str) -> SendError:
    text = one_line(f"the mail server {what}: {code} {message}")
    return SendError(text, permanent=500 <= code < 600)
