"""The receipt of an approved payment, queued in the outbox in the payment's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.config import Settings
from clientpay_tui.db.models import EmailKind, Payer
from clientpay_tui.db.payment_models import Transaction
from clientpay_tui.services.access_emails import queue_email
from clientpay_tui.services.payments.views import money, view
from clientpay_tui.services.payments.wallets import PORTAL_ACTOR


def queue_receipt(
    session: Session,
    settings: Settings,
    transaction: Transaction,
    login_id: int,
    now: datetime,
    test_mode: bool,
) -> None:
    """Queue the receipt to the login's address (its oldest record with an email)."""
    payer = session.scalars(
        select(Payer).where(Payer.login_id == login_id, Payer.email.is_not(None)).order_by(Payer.id)
    ).first()
    if payer is None:
        return
    lines = [
        (a.invoice_number, money(a.amount_cents)) for a in view(session, transaction).allocations
    ]
    queue_email(
        session,
        settings,
        payer,
        EmailKind.RECEIPT,
        now,
        PORTAL_ACTOR,
        receipt={
            "amount": money(transaction.amount_cents),
            "method": transaction.method_label,
            "invoices": lines,
            "reference": transaction.gateway_reference or "",
            "when": f"{now:%d %b %Y %H:%M} UTC",
            "transaction_id": transaction.id,
            "test_mode": test_mode,
        },
    )
