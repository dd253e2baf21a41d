"""What the payer details screen shows of the portal's payments: the Wallets and Transactions
tabs (read-only; the payer manages both in the portal). Cells are built from literal values
(``Column`` wraps text in ``rich.text.Text``): database text is data, never markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.payments.views import PaymentView
from clientpay_tui.services.payments.wallets import WalletRow
from clientpay_tui.text import plural
from clientpay_tui.widgets.formatting import day, money, stamp
from clientpay_tui.widgets.paged_table import Column

FIRST_PAGE = 100


@dataclass(frozen=True)
class PayerTransactions:
    """A :class:`RowSource` of one payer record's payments, newest first, a page at a time."""

    session: StaffSession
    payer_id: int
    first: list[PaymentView]
    """Loaded with the tabs (up to :data:`FIRST_PAGE`)."""
    total: int

    def count(self) -> tuple[int, bool]:
        return self.total, False

    def fetch(self, offset: int, limit: int) -> Sequence[PaymentView]:
        if offset + limit <= len(self.first) or len(self.first) == self.total:
            return self.first[offset : offset + limit]
        payments = self.session.services.payments
        return payments.for_payer(self.session.actor, self.payer_id, offset, limit)[0]

    @property
    def summary(self) -> str:
        if not self.total:
            return "No payments made in the portal."
        return f"{plural(self.total, 'payment')} made in the portal, newest first."


def load_transactions(session: StaffSession, payer_id: int) -> PayerTransactions:
    payments = session.services.payments
    first, total = payments.for_payer(session.actor, payer_id, 0, FIRST_PAGE)
    return PayerTransactions(session, payer_id, first, total)


def wallets_summary(wallets: Sequence[WalletRow]) -> str:
    soon = sum(1 for w in wallets if w.expiring_soon)
    expired = sum(1 for w in wallets if w.expired)
    notes = [f"{soon} expiring within 30 days"] if soon else []
    notes += [f"{expired} expired"] if expired else []
    extra = f" ({', '.join(notes)})" if notes else ""
    return f"{plural(len(wallets), 'saved method')} the payer manages in the portal{extra}."


def _expiry(wallet: WalletRow) -> Text:
    if wallet.expired:
        return Text(f"{wallet.expiry} expired", style="bold red")
    if wallet.expiring_soon:
        return Text(f"{wallet.expiry} soon", style="bold")
    return Text(wallet.expiry)


def describe_wallet(wallet: WalletRow) -> str:
    usable = "" if wallet.usable else " Saved before payments were set up: it cannot pay."
    return f"{wallet.label}, {wallet.kind}, holder {wallet.holder_name}.{usable}"


def describe_payment(payment: PaymentView) -> str:
    parts = ", ".join(f"{a.invoice_number} {money(a.amount_cents)}" for a in payment.allocations)
    reference = f", reference {payment.gateway_reference}" if payment.gateway_reference else ""
    reason = f"\n{payment.reason}" if payment.reason else ""
    return (
        f"Transaction {payment.transaction_id}: {payment.status}{reference}\n"
        f"{parts or payment.description}{reason}"
    )


WALLET_COLUMNS: list[Column[WalletRow]] = [
    Column("Method", lambda w: w.label, ratio=2),
    Column("Expires", _expiry, width=15),
    Column("Default", lambda w: "yes" if w.is_default else "", width=7),
    Column("Holder", lambda w: w.holder_name, ratio=1),
    Column("Added", lambda w: day(w.created_at), width=11),
]
TRANSACTION_COLUMNS: list[Column[PaymentView]] = [
    Column("When (UTC)", lambda t: stamp(t.created_at), width=16),
    Column("Invoices", lambda t: ", ".join(a.invoice_number for a in t.allocations), ratio=2),
    Column("Method", lambda t: t.method_label, ratio=2),
    Column("Amount", lambda t: money(t.amount_cents), width=11, justify="right"),
    Column("Status", lambda t: t.status, width=9),
]
