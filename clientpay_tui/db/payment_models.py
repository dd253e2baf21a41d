"""What payers pay with and what they paid: saved payment methods, payment attempts and the
invoices each one pays. Money is integer cents; the gateway holds card and account numbers,
these tables only its tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clientpay_tui.db.base import Base


class TransactionStatus(enum.StrEnum):
    DRAFT = "draft"
    """A confirmation page was shown; nothing is reserved or charged yet."""
    PENDING = "pending"
    """Balances are reserved and the gateway is being asked."""
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    FAILED = "failed"
    """The gateway had an error: nothing was charged, the payer may try again."""
    CANCELLED = "cancelled"
    """Confirmed, but an invoice was no longer payable: nothing was charged."""
    REFUNDED = "refunded"


class Wallet(Base):
    """A saved payment method: the gateway's token and what may be shown of it, never the
    card or account number, never a CVC."""

    __tablename__ = "wallet"

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``card`` or ``bank``."""
    label: Mapped[str] = mapped_column(String(100))
    """How it reads: ``Visa •••• 4242``."""
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    token: Mapped[str | None] = mapped_column(String(200))
    """The gateway's token (``None`` on methods saved before gateways: they cannot pay)."""
    gateway: Mapped[str | None] = mapped_column(String(100))
    brand: Mapped[str] = mapped_column(String(60), server_default="")
    """Card brand or bank name."""
    last4: Mapped[str] = mapped_column(String(4), server_default="")
    exp_month: Mapped[int | None]
    exp_year: Mapped[int | None]
    holder_name: Mapped[str] = mapped_column(String(200), server_default="")


class Transaction(Base):
    """One payment attempt, from its confirmation page (``draft``) to its outcome."""

    __tablename__ = "payment_transaction"
    __table_args__ = (Index("ix_payment_transaction_payer", "payer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payer.id", ondelete="CASCADE"))
    wallet_id: Mapped[int | None] = mapped_column(ForeignKey("wallet.id", ondelete="SET NULL"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    """A :class:`TransactionStatus` value."""
    description: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    method_label: Mapped[str] = mapped_column(String(100), server_default="")
    """Brand and last 4 (``Visa •••• 4242``), kept when the wallet is removed."""
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    """One per confirmation page: paying with it twice charges once."""
    gateway: Mapped[str | None] = mapped_column(String(100))
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    one_off_token: Mapped[str | None] = mapped_column(String(200))
    """A method used once and not saved; cleared once the payment has its outcome."""
    reason: Mapped[str | None] = mapped_column(String(300))
    """Why it was declined, failed or cancelled."""
    refunded_cents: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refund_reference: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime | None]

    invoices: Mapped[list[TransactionInvoice]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="TransactionInvoice.position"
    )


class TransactionInvoice(Base):
    """What one transaction pays of one invoice."""

    __tablename__ = "transaction_invoice"

    transaction_id: Mapped[int] = mapped_column(
        ForeignKey("payment_transaction.id", ondelete="CASCADE"), primary_key=True
    )
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)
    """Order on the confirmation page (oldest invoice first)."""
    amount_cents: Mapped[int] = mapped_column(BigInteger)
