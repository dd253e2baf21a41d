"""Build the MIME message for one outbox email with the standard :mod:`email` package.

Headers go through :mod:`email.headerregistry` with the ``SMTP`` policy: a display name is
quoted or encoded (RFC 2047) as needed. Two things are done first, so that a payer's name can
never add a header or break one:

- control characters, CR and LF included, become spaces;
- ``=?`` becomes ``= ?``. The header parser decodes RFC 2047 encoded words it finds in what it
  is given, and Python before 3.11.10 then writes a decoded CR LF out as it is (CVE-2024-6923):
  a name such as ``=?utf-8?q?Eve=0D=0ABcc:_x@evil.example?=`` would add a header.

:func:`flatten` then checks the generated header block line by line, as newer Pythons do with
``verify_generated_headers``. Bodies are 7-bit (plain ASCII) or quoted-printable, so no server
needs 8BITMIME for them.
"""

from __future__ import annotations

import functools
from datetime import datetime
from email import policy
from email.headerregistry import Address, BaseHeader, HeaderRegistry
from email.message import EmailMessage

from clientpay_tui.errors import ConfigError
from clientpay_tui.mail.claims import ClaimedEmail
from clientpay_tui.text import clean_text

MAX_NAME = 200
HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
)
"""Every header :func:`build_message` writes, and the only ones :func:`flatten` lets out."""


class _HeaderRegistry(HeaderRegistry):
    """The standard registry, but it makes each header class once instead of per lookup
    (``HeaderRegistry.__getitem__`` builds a new class every time: a third of the cost of
    building a message)."""

    @functools.cache  # noqa: B019 - one registry lives for the whole process
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)  # type: ignore[no-any-return]


POLICY = policy.SMTP.clone(header_factory=_HeaderRegistry())
"""``SMTP`` (CRLF line ends, RFC 2047 encoded words for non-ASCII), with cached header classes."""
POLICY_UTF8 = POLICY.clone(utf8=True)
"""The same with raw UTF-8 headers, for a server that takes SMTPUTF8."""


def parse_mail_from(value: str) -> Address:
    """The one address in the ``mail_from`` setting (``Name <addr@example.com>`` or bare).

    Raises:
        ConfigError: the setting is not exactly one valid address.
    """
    probe = EmailMessage(policy=POLICY)
    try:
        probe["From"] = value
        addresses = probe["From"].addresses
    except (ValueError, IndexError, TypeError) as error:
        raise ConfigError(f"invalid setting mail_from (CLIENTPAY_MAIL_FROM): {error}") from None
    if len(addresses) != 1 or not addresses[0].username or not addresses[0].domain:
        raise ConfigError(
            "invalid setting mail_from (CLIENTPAY_MAIL_FROM): "
            f"expected one address such as 'Firm <billing@firm.example>', got {value!r}"
        )
    return addresses[0]


def build_message(email: ClaimedEmail, *, sender: Address, date: datetime) -> EmailMessage:
    """The message to send for ``email``: text and HTML alternatives, with its Message-ID.

    Args:
        email: the claimed outbox row; its bodies must still be present.
        sender: the From address (see :func:`parse_mail_from`).
        date: the Date header, normally the moment of sending.

    Raises:
        ValueError: the email has no body any more, or its address cannot be a header.
    """
    if email.body_text is None or email.body_html is None:
        raise ValueError("the email's body was removed, so it cannot be sent")
    message = EmailMessage(policy=POLICY)
    message["From"] = sender
    message["To"] = Address(
        display_name=_one_line(email.to_name)[:MAX_NAME], addr_spec=email.to_address
    )
    message["Subject"] = _one_line(email.subject)
    message["Date"] = date
    message["Message-ID"] = email.message_id
    # RFC 3834: an automatic message; vacation responders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.body_text, cte=_transfer_encoding(email.body_text))
    message.add_alternative(
        email.body_html, subtype="html", cte=_transfer_encoding(email.body_html)
    )
    return message


def flatten(message: EmailMessage, *, utf8: bool = False) -> bytes:
    """The bytes to send, once the header block is checked to hold only :data:`HEADERS`.

    Args:
        message: from :func:`build_message`.
        utf8: the server takes SMTPUTF8 and an address needs it; headers may be raw UTF-8.

    Raises:
        ValueError: a header line that :func:`build_message` did not write (never expected:
            this is the last line of defence against header injection).
    """
    data = message.as_bytes(policy=POLICY_UTF8 if utf8 else POLICY)
    head = data.split(b"\r\n\r\n", 1)[0]
    if b"\r" in head.replace(b"\r\n", b"") or b"\n" in head.replace(b"\r\n", b""):
        raise ValueError("a header holds a bare CR or LF")
    names = [
        line.partition(b":")[0].decode("ascii", "replace")
        for line in head.split(b"\r\n")
        if line[:1] not in (b" ", b"\t")
    ]
    if sorted(names) != sorted(HEADERS):
        raise ValueError(f"unexpected header lines: {sorted(set(names) - set(HEADERS))}")
    return data


def _one_line(value: str) -> str:
    # No control characters (CR and LF become spaces), runs of spaces become one as a reader's
    # parser would make them anyway, and nothing the parser could take for an encoded word.
    return " ".join(clean_text(value).split()).replace("=?", "= ?")


def _transfer_encoding(body: str) -> str:
    # Plain ASCII goes as it is, so links stay whole in the raw message; anything else is
    # quoted-printable, which every server accepts (no 8BITMIME needed).
    if body.isascii() and all(len(line) <= 900 for line in body.splitlines()):
        return "7bit"
    return "quoted-printable"
