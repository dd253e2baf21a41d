"""Build the MIME message for one outbox email with the standard :mod:`email` package.

Headers go through :mod:`email.headerregistry` with the ``SMTP`` policy: a display name is
quoted or encoded (RFC 2047) as needed, and CR, LF and other control characters are turned into
spaces before they get there, so a payer's name can never add a header or break one. Bodies are
7-bit (plain ASCII) or quoted-printable, so no server needs 8BITMIME or SMTPUTF8 for them.
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


class _HeaderRegistry(HeaderRegistry):
    """The standard registry, but it makes each header class once instead of per lookup
    (``HeaderRegistry.__getitem__`` builds a new class every time: a third of the cost of
    building a message)."""

    @functools.cache  # noqa: B019 - one registry lives for the whole process
    def __getitem__(self, name: str) -> type[BaseHeader]:
        return super().__getitem__(name)  # type: ignore[no-any-return]


POLICY = policy.SMTP.clone(header_factory=_HeaderRegistry())
"""``SMTP`` (CRLF line ends, RFC 2047 encoded words for non-ASCII), with cached header classes."""


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
        display_name=clean_text(email.to_name)[:MAX_NAME], addr_spec=email.to_address
    )
    message["Subject"] = clean_text(email.subject)
    message["Date"] = date
    message["Message-ID"] = email.message_id
    # RFC 3834: an automatic message; vacation responders should not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.body_text, cte=_transfer_encoding(email.body_text))
    message.add_alternative(
        email.body_html, subtype="html", cte=_transfer_encoding(email.body_html)
    )
    return message


def _transfer_encoding(body: str) -> str:
    # Plain ASCII goes as it is, so links stay whole in the raw message; anything else is
    # quoted-printable, which every server accepts (no 8BITMIME needed).
    if body.isascii() and all(len(line) <= 900 for line in body.splitlines()):
        return "7bit"
    return "quoted-printable"
