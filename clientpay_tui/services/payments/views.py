"""What the payment pages and the staff tabs show of payments: plain values, and the reads
that build them (a confirmation or outcome by key, a history a page at a time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Invoice
from clientpay_tui.db.payment_models import Transaction, TransactionInvoice, TransactionStatus
from clientpay_tui.services.payments.gateway import BankDetails, CardDetails

HIDDEN = (TransactionStatus.DRAFT, TransactionStatus.CANCELLED)
"""Not in the history: nothing was charged or tried."""
NOT_SHOWN = "This invoice is not shown in your portal."
UNKNOWN_CONFIRMATION = "This payment confirmation is not known. Start the payment again."


@dataclass(frozen=True)
class PayableInvoice:
    invoice_id: int
    invoice_number: str
    invoice_date: date
    client_name: str
    matter_description: str | None
    balance_cents: int


@dataclass(frozen=True)
class Payables:
    """What the login may pay now, oldest first (at most :data:`PAYABLE_SHOWN` listed)."""

    invoices: list[PayableInvoice]
    count: int
    """Payable invoices (when not counted, ``len(invoices)``: there are at least that many)."""
    total_cents: int | None
    """Their balance, ``None`` when not counted (see :func:`~.choosing.payables`)."""

    @property
    def capped(self) -> bool:
        return self.total_cents is None


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    invoice_number: str
    amount_cents: int


@dataclass(frozen=True)
class MethodChoice:
    """How to pay: a saved method, or a card or bank account used once (not saved)."""

    wallet_id: int | None = None
    card: CardDetails | None = None
    bank: BankDetails | None = None


@dataclass(frozen=True)
class PaymentView:
    """A confirmation page (``draft``) or a payment's outcome."""

    transaction_id: int
    payer_id: int
    idempotency_key: str | None
    status: str
    """A :class:`TransactionStatus` value (older data may hold others)."""
    amount_cents: int
    method_label: str
    allocations: list[Allocation]
    reason: str | None
    created_at: datetime
    updated_at: datetime | None
    gateway_reference: str | None
    description: str

    @property
    def paid(self) -> bool:
        return self.status == TransactionStatus.SUCCEEDED


def history_page(
    session: Session, payer_ids: list[int], offset: int, limit: int
) -> tuple[list[PaymentView], int]:
    """Payments of ``payer_ids``, newest first, and how many there are (drafts and
    cancelled confirmations left out)."""
    if not payer_ids:
        return [], 0
    shown = Transaction.payer_id.in_(payer_ids) & Transaction.status.not_in(
        [s.value for s in HIDDEN]
    )
    total = int(session.scalar(select(func.count(Transaction.id)).where(shown)) or 0)
    rows = list(
        session.scalars(
            select(Transaction)
            .where(shown)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .offset(offset)
            .limit(limit)
        )
    )
    parts = _allocations(session, [t.id for t in rows])
    return [view_of(t, parts.get(t.id, [])) for t in rows], total


def _allocations(session: Session, transaction_ids: list[int]) -> dict[int, list[Allocation]]:
    """Each transaction's invoices and amounts, in confirmation order (one query)."""
    found: dict[int, list[Allocation]] = {}
    if not transaction_ids:
        return found
    rows = session.execute(
        select(
            TransactionInvoice.transaction_id,
            TransactionInvoice.invoice_id,
            Invoice.number,
            TransactionInvoice.amount_cents,
        )
        .join(Invoice, Invoice.id == TransactionInvoice.invoice_id)
        .where(TransactionInvoice.transaction_id.in_(transaction_ids))
        .order_by(TransactionInvoice.transaction_id, TransactionInvoice.position)
    )
    for transaction_id, invoice_id, number, amount in rows:
        found.setdefault(transaction_id, []).append(Allocation(invoice_id, number, amount))
    return found


def view(session: Session, transaction: Transaction) -> PaymentView:
    return view_of(transaction, _allocations(session, [transaction.id]).get(transaction.id, []))


def view_of(transaction: Transaction, allocations: list[Allocation]) -> PaymentView:
    return PaymentView(
        transaction_id=transaction.id,
        payer_id=transaction.payer_id,
        idempotency_key=transaction.idempotency_key,
        status=transaction.status,
        amount_cents=transaction.amount_cents,
        method_label=transaction.method_label,
        allocations=allocations,
        reason=transaction.reason,
        created_at=transaction.created_at,
        updated_at=transaction.updated_at,
        gateway_reference=transaction.gateway_reference,
        description=transaction.description,
    )


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
