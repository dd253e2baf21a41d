"""Names from the database can never add, break or smuggle a header."""

from __future__ import annotations

import email
import email.policy
import email.utils
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.parser import BytesParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientpay_tui.db.models import EmailKind
from clientpay_tui.mail.claims import ClaimedEmail
from clientpay_tui.mail.delivery import Outcome
from clientpay_tui.mail.message import build_message, flatten, parse_mail_from
from clientpay_tui.text import clean_text

EXPECTED_HEADERS = {
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
}


def _header_block(raw: bytes) -> list[bytes]:
    head = raw.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")


def _well_formed(raw: bytes) -> None:
    lines = _header_block(raw)
    for line in lines:
        assert line.isascii(), line
        assert b"\r" not in line and b"\n" not in line
        assert len(line) <= 998
    names = {line.split(b":", 1)[0].decode() for line in lines if not line[:1].isspace()}
    assert names == EXPECTED_HEADERS
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends in CRLF"


async def test_cr_lf_in_a_name_cannot_add_a_recipient_or_header(sender, smtp_server, queue_emails):
    queue_emails(
        1, to_name="Eve\r\nBcc: mallory@evil.test\r\nX-Evil: 1", to_address="eve@example.com"
    )

    await sender.deliver_due()

    [received] = smtp_server.handler.messages
    assert received.rcpt_tos == ["eve@example.com"]
    _well_formed(received.raw)
    [to] = received.message["To"].addresses
    assert to.addr_spec == "eve@example.com"
    assert to.display_name == "Eve Bcc: mallory@evil.test X-Evil: 1"
    assert received.message["Bcc"] is None and received.message["X-Evil"] is None


@pytest.mark.parametrize(
    "name",
    [
        "=?utf-8?q?Eve=0D=0ABcc:_mallory@evil.test?=",
        "=?utf-8?b?RXZlDQpCY2M6IG1hbGxvcnlAZXZpbC50ZXN0?=",
        "Eve=?utf-8?q?=0D=0A=0D=0AFake_body?=",
    ],
)
async def test_an_encoded_line_break_in_a_name_stays_text(sender, smtp_server, queue_emails, name):
    """CVE-2024-6923: Python < 3.11.10 decodes such a name and writes the CR LF out raw."""
    queue_emails(1, to_name=name, to_address="eve@example.com")

    [result] = await sender.deliver_due()

    assert result.outcome == Outcome.SENT
    [received] = smtp_server.handler.messages
    _well_formed(received.raw)
    assert received.rcpt_tos == ["eve@example.com"]
    [to] = received.message["To"].addresses
    assert to.addr_spec == "eve@example.com"
    assert to.display_name == name.replace("=?", "= ?")
    assert received.message.get_body(("plain",)).get_content().startswith("Hello ")


def test_flatten_refuses_a_header_it_did_not_write():
    message = build_message(_claimed("Ann", "Hi"), sender=SENDER, date=datetime.now(UTC))
    message["X-Extra"] = "1"
    with pytest.raises(ValueError, match="X-Extra"):
        flatten(message)


async def test_non_ascii_display_name_is_encoded_and_reads_back_the_same(
    sender, smtp_server, queue_emails
):
    name = 'Zoë Ångström-山田, "the Third" <boss>'
    queue_emails(1, to_name=name, to_address="zoe@example.com")

    await sender.deliver_due()

    [received] = smtp_server.handler.messages
    _well_formed(received.raw)
    [to_line] = [line for line in _header_block(received.raw) if line.startswith(b"To: ")]
    assert to_line.startswith(b"To: =?utf-8?"), "RFC 2047 encoded, not raw UTF-8"
    [to] = received.message["To"].addresses
    assert (to.display_name, to.addr_spec) == (name, "zoe@example.com")
    assert received.rcpt_tos == ["zoe@example.com"]
    text = received.message.get_body(("plain",)).get_content()
    assert f"Hello {name}," in text


SENDER = parse_mail_from("Test Firm <billing@firm.test>")


def _claimed(name: str, subject: str) -> ClaimedEmail:
    return ClaimedEmail(
        id=1,
        kind=EmailKind.WELCOME,
        payer_id=None,
        to_address="someone@example.com",
        to_name=name,
        subject=subject,
        body_text="Hello\n",
        body_html="<p>Hello</p>\n",
        message_id="<1.2@firm.test>",
        attempts=1,
    )


# Plain text of any kind, and text with encoded-word look-alikes wrapped around it.
header_text = st.text(max_size=120) | st.builds(
    lambda before, charset, mode, inner, after: f"{before}=?{charset}?{mode}?{inner}?={after}",
    st.text(max_size=10),
    st.sampled_from(["utf-8", "us-ascii", "iso-8859-1"]),
    st.sampled_from(["q", "b", "Q"]),
    st.text(alphabet="=0DA_:xyz@.BCcd+/", max_size=40),
    st.text(max_size=10),
)


@settings(max_examples=200, deadline=None)
@given(name=header_text, subject=header_text)
def test_any_name_or_subject_gives_exactly_the_expected_headers(name: str, subject: str) -> None:
    message = build_message(_claimed(name, subject), sender=SENDER, date=datetime.now(UTC))
    raw = flatten(message)

    _well_formed(raw)
    parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
    [to] = parsed["To"].addresses
    assert to.addr_spec == "someone@example.com"
    # The text survives, compared without spaces: CPython's folder can drop a space that falls
    # exactly between two encoded words of a long non-ASCII name, and its address parser adds
    # one there (RFC 2047 says such whitespace is not text). Cosmetic, and never a header.
    compat = email.message_from_bytes(raw)
    [(display_name, address)] = email.utils.getaddresses([compat["To"]])
    assert address == "someone@example.com"
    assert _squeezed(_decoded(display_name)) == _squeezed(_shown(name))
    assert _squeezed(_decoded(compat["Subject"])) == _squeezed(_shown(subject))


def _shown(value: str) -> str:
    return clean_text(value).replace("=?", "= ?")


def _decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


def _squeezed(value: str) -> str:
    return "".join(value.split())
