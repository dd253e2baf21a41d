"""The transactional outbox: emails are rows written in the same transaction as the change.

A sender (in the app, or ``clientpay-tui worker``) later claims and delivers them; nothing is
sent from inside a service call, so a crash or a dead mail server never loses a message.
"""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.utils import make_msgid, parseaddr

from sqlalchemy.orm import Session

from clientpay_tui.db.models import EmailStatus, OutboxEmail
from clientpay_tui.mail.compose import ComposedEmail


def sender_domain(mail_from: str) -> str:
    """The domain of ``MAIL_FROM``, used for Message-IDs."""
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2]
    return domain or "localhost"


def enqueue(
    session: Session,
    composed: ComposedEmail,
    *,
    to_address: str,
    to_name: str,
    payer_id: int | None,
    requested_by: str,
    now: datetime,
    mail_from: str,
) -> OutboxEmail:
    """Queue ``composed`` for ``to_address``; it is sent once the transaction commits.

    The Message-ID is fixed now, so every retry of this email carries the same one and a
    receiving server can recognise a duplicate.
    """
    Address(addr_spec=to_address)  # raises on an address that cannot be a header
    email = OutboxEmail(
        kind=composed.kind,
        payer_id=payer_id,
        to_address=to_address,
        to_name=to_name,
        subject=composed.subject,
        body_text=composed.text,
        body_html=composed.html,
        message_id=make_msgid(domain=sender_domain(mail_from)),
        status=EmailStatus.QUEUED,
        attempts=0,
        next_attempt_at=now,
        requested_by=requested_by,
        created_at=now,
    )
    session.add(email)
    session.flush()
    return email
