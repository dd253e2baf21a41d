"""Paying invoices in the portal: choose, confirm, pay once, and the outcome.

Each confirmation page is a ``draft`` transaction with its own idempotency key: the allocation
(which invoices, how much of each) and the method are fixed when the page is shown, so what is
posted back is only the key. Paying with it:

1. in one database transaction, checks that every invoice is still visible and payable (the
   portal's rules, :mod:`clientpay_tui.services.visible_invoices`), locks the invoice rows in id
   order and lowers their balances with ``UPDATE … WHERE balance_cents >= amount``: two
   payments of one invoice cannot both reserve it, and a balance never goes below zero. The
   transaction is then ``pending``;
2. asks the gateway to charge, with the key (outside any database transaction);
3. in one database transaction records the outcome: approved keeps the lowered balances,
   queues the receipt and is audited; declined or failed puts the balances back.

A second submit, a reload or a concurrent request with the same key finds the transaction past
``draft`` and gets its outcome: nothing is charged twice. A transaction left ``pending`` (the
gateway raised, or the process died during the charge) is asked again, with the same key,
after :data:`PENDING_RETRY_AFTER`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Invoice
from clientpay_tui.db.payment_models import (
    Transaction,
    TransactionInvoice,
    TransactionStatus,
    Wallet,
)
from clientpay_tui.errors import NotFound, PaymentsUnavailable, ValidationFailed
from clientpay_tui.services import audit
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.payments.choosing import PAYABLE_SHOWN, allocate, payables
from clientpay_tui.services.payments.gateway import (
    Approved,
    ChargeResult,
    Declined,
    PaymentGateway,
    in_test_mode,
)
from clientpay_tui.services.payments.receipts import queue_receipt
from clientpay_tui.services.payments.views import (
    NOT_SHOWN,
    UNKNOWN_CONFIRMATION,
    MethodChoice,
    Payables,
    PaymentView,
    cut,
    history_page,
    money,
    view,
)
from clientpay_tui.services.payments.wallets import (
    NO_GATEWAY,
    NOT_YOURS,
    PORTAL_ACTOR,
    login_payer_ids,
    method_label,
    owner_of,
    row_of,
    tokenized_or_raise,
)
from clientpay_tui.services.visible_invoices import payability, visible_condition

log = logging.getLogger(__name__)
PENDING_RETRY_AFTER = timedelta(minutes=2)
DRAFTS_KEPT = timedelta(days=1)


class PaymentService:
    def __init__(self, ctx: ServiceContext, gateway: PaymentGateway | None) -> None:
        self.ctx = ctx
        self.gateway = gateway

    @property
    def test_mode(self) -> bool:
        """The test gateway is in use: pages say that no money moves."""
        return in_test_mode(self.gateway)

    def _gateway(self) -> PaymentGateway:
        if self.gateway is None:
            raise PaymentsUnavailable(NO_GATEWAY)
        return self.gateway

    # -- confirming -------------------------------------------------------------------------

    def payable(self, login_id: int, limit: int = PAYABLE_SHOWN) -> Payables:
        """The invoices the login may pay now, oldest first (the pay page's list)."""
        with self.ctx.db.read() as session:
            return payables(session, tuple(login_payer_ids(session, login_id)), limit)

    def confirm(
        self,
        login_id: int,
        method: MethodChoice,
        *,
        invoice_ids: Sequence[int] | None = None,
        amount_cents: int | None = None,
    ) -> PaymentView:
        """Fix a payment for its confirmation page: chosen invoices paid in full, or an amount
        spread oldest first; a saved method, or a card or account tokenized now and used once.

        Raises:
            ValidationFailed: nothing chosen, an invoice not shown or not payable, an amount
                over what is open, a method that cannot pay.
            PaymentDeclined, PaymentFailed: the gateway refused a one-off method.
        """
        gateway = self._gateway()
        one_off = None
        if method.card is not None:
            one_off = tokenized_or_raise(gateway.tokenize_card(method.card))
        elif method.bank is not None:
            one_off = tokenized_or_raise(gateway.tokenize_bank(method.bank))
        elif method.wallet_id is None:
            raise ValidationFailed("Choose how to pay.")
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            ids = tuple(login_payer_ids(session, login_id))
            owner = owner_of(session, login_id)
            allocations = allocate(session, ids, invoice_ids, amount_cents)
            wallet = None
            if one_off is None:
                wallet = session.get(Wallet, method.wallet_id)
                if wallet is None or wallet.payer_id not in ids:
                    raise ValidationFailed(NOT_YOURS)
                row = row_of(wallet, now.date())
                if not row.usable:
                    raise ValidationFailed(f"{row.label} cannot pay: save it again.")
                if row.expired:
                    raise ValidationFailed(f"{row.label} has expired.")
                label = wallet.label
            else:
                label = method_label(one_off.brand, one_off.last4)
            session.execute(
                delete(Transaction).where(
                    Transaction.payer_id.in_(ids),
                    Transaction.status == TransactionStatus.DRAFT,
                    Transaction.created_at < now - DRAFTS_KEPT,
                )
            )
            numbers = ", ".join(a.invoice_number for a in allocations)
            transaction = Transaction(
                payer_id=owner,
                wallet_id=wallet.id if wallet else None,
                amount_cents=sum(a.amount_cents for a in allocations),
                status=TransactionStatus.DRAFT.value,
                description=cut(f"Payment of {numbers}", 200),
                created_at=now,
                updated_at=now,
                method_label=label,
                idempotency_key=secrets.token_urlsafe(24),
                gateway=gateway.name,
                one_off_token=one_off.token if one_off else None,
                refunded_cents=0,
            )
            transaction.invoices = [
                TransactionInvoice(invoice_id=a.invoice_id, position=n, amount_cents=a.amount_cents)
                for n, a in enumerate(allocations)
            ]
            session.add(transaction)
            session.flush()
            return view(session, transaction)

    # -- paying -----------------------------------------------------------------------------

    def pay(self, login_id: int, idempotency_key: str) -> PaymentView:
        """Pay a confirmed payment once; with the same key again, its outcome.

        Raises:
            NotFound: no confirmation of this login has this key.
        """
        gateway = self._gateway()
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            transaction = self._locked(session, login_id, idempotency_key)
            status = TransactionStatus(transaction.status)
            stuck = (
                status == TransactionStatus.PENDING
                and (transaction.updated_at or transaction.created_at) < now - PENDING_RETRY_AFTER
            )
            if status != TransactionStatus.DRAFT and not stuck:
                return view(session, transaction)
            if status == TransactionStatus.DRAFT:
                problem = self._reserve(session, transaction, login_id)
                if problem is not None:
                    transaction.status = TransactionStatus.CANCELLED.value
                    transaction.reason = problem
                    transaction.one_off_token = None
                    transaction.updated_at = now
                    audit.record_for_login(
                        session,
                        now,
                        PORTAL_ACTOR,
                        "payment.cancelled",
                        f"Payment of {money(transaction.amount_cents)} not made: {problem}",
                        login_id,
                    )
                    session.flush()
                    return view(session, transaction)
                transaction.status = TransactionStatus.PENDING.value
                transaction.updated_at = now
            token = transaction.one_off_token
            if token is None and transaction.wallet_id is not None:
                token = session.scalar(
                    select(Wallet.token).where(Wallet.id == transaction.wallet_id)
                )
            amount, description = transaction.amount_cents, transaction.description
            transaction_id = transaction.id
        # The charge runs outside any database transaction: a slow gateway holds no locks.
        result: ChargeResult
        if token is None:
            result = Declined("The payment method was removed from your wallet.")
        else:
            try:
                result = gateway.charge(token, amount, idempotency_key, description)
            except Exception:
                # The outcome is unknown: the payment stays pending (its balances reserved) and
                # is asked again with the same key after PENDING_RETRY_AFTER.
                log.exception(
                    "The %s payment gateway failed while charging transaction %s; it stays pending",
                    gateway.name,
                    transaction_id,
                )
                return self.outcome(login_id, idempotency_key)
        return self._record(login_id, idempotency_key, result)

    def _reserve(self, session: Session, transaction: Transaction, login_id: int) -> str | None:
        """Lower the balances the payment covers, or say why it cannot be made now."""
        ids = tuple(login_payer_ids(session, login_id))
        integrations = enabled_integrations(session)
        parts = sorted(transaction.invoices, key=lambda p: p.invoice_id)
        wanted = [p.invoice_id for p in parts]
        visible = set(
            session.scalars(
                select(Invoice.id).where(
                    Invoice.id.in_(wanted), visible_condition(ids, integrations, per_row=True)
                )
            )
        )
        # Lock the rows in id order: two payments sharing invoices never deadlock.
        locked = {
            invoice.id: invoice
            for invoice in session.scalars(
                select(Invoice).where(Invoice.id.in_(wanted)).order_by(Invoice.id).with_for_update()
            )
        }
        for part in parts:
            invoice = locked.get(part.invoice_id)
            if invoice is None or invoice.id not in visible:
                return NOT_SHOWN
            if invoice.balance_cents == 0:
                return f"{invoice.number} is already paid: nothing was charged."
            if invoice.balance_cents < part.amount_cents:
                return (
                    f"{invoice.number} now has a balance of {money(invoice.balance_cents)}, "
                    "less than this payment: nothing was charged. Start again."
                )
            payable, reason = payability(invoice.source, invoice.balance_cents, integrations)
            if not payable:
                return f"{invoice.number} cannot be paid here: {reason}."
        for part in parts:
            changed = session.execute(
                update(Invoice)
                .where(Invoice.id == part.invoice_id, Invoice.balance_cents >= part.amount_cents)
                .values(balance_cents=Invoice.balance_cents - part.amount_cents)
                .execution_options(synchronize_session=False)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise RuntimeError(f"invoice {part.invoice_id} changed under its row lock")
        return None

    def _record(self, login_id: int, idempotency_key: str, result: ChargeResult) -> PaymentView:
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            transaction = self._locked(session, login_id, idempotency_key)
            if transaction.status != TransactionStatus.PENDING:
                return view(session, transaction)  # another request recorded it first
            transaction.updated_at = now
            transaction.one_off_token = None
            amount = money(transaction.amount_cents)
            numbers = ", ".join(a.invoice_number for a in view(session, transaction).allocations)
            mode = " (test mode)" if self.test_mode else ""
            if isinstance(result, Approved):
                transaction.status = TransactionStatus.SUCCEEDED.value
                transaction.gateway_reference = result.reference
                queue_receipt(
                    session, self.ctx.settings, transaction, login_id, now, self.test_mode
                )
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "payment.succeeded",
                    f"Paid {amount} of {numbers} with {transaction.method_label}{mode}; "
                    f"transaction {transaction.id}",
                    login_id,
                )
            else:
                declined = isinstance(result, Declined)
                status = TransactionStatus.DECLINED if declined else TransactionStatus.FAILED
                transaction.status = status.value
                transaction.reason = cut(result.reason, 300)
                for part in transaction.invoices:
                    session.execute(
                        update(Invoice)
                        .where(Invoice.id == part.invoice_id)
                        .values(balance_cents=Invoice.balance_cents + part.amount_cents)
                        .execution_options(synchronize_session=False)
                    )
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    f"payment.{status.value}",
                    f"Payment of {amount} for {numbers} with {transaction.method_label} "
                    f"{status.value}{mode}: {result.reason}",
                    login_id,
                )
            session.flush()
            return view(session, transaction)

    @staticmethod
    def _locked(session: Session, login_id: int, key: str) -> Transaction:
        if not key or len(key) > 64:
            raise NotFound(UNKNOWN_CONFIRMATION)
        transaction = session.scalars(
            select(Transaction).where(Transaction.idempotency_key == key).with_for_update()
        ).first()
        if transaction is None or transaction.payer_id not in login_payer_ids(session, login_id):
            raise NotFound(UNKNOWN_CONFIRMATION)
        return transaction

    # -- reading ----------------------------------------------------------------------------

    def outcome(self, login_id: int, idempotency_key: str) -> PaymentView:
        """A confirmation or payment of the login, by its key (for the result page).

        Raises:
            NotFound: no payment of this login has this key.
        """
        with self.ctx.db.read() as session:
            ids = login_payer_ids(session, login_id)
            transaction = session.scalars(
                select(Transaction).where(Transaction.idempotency_key == idempotency_key)
            ).first()
            if transaction is None or transaction.payer_id not in ids:
                raise NotFound(UNKNOWN_CONFIRMATION)
            return view(session, transaction)

    def history(
        self, login_id: int, offset: int = 0, limit: int = 25
    ) -> tuple[list[PaymentView], int]:
        """The login's payments, newest first, a page at a time, and how many there are."""
        with self.ctx.db.read() as session:
            return history_page(session, login_payer_ids(session, login_id), offset, limit)

    def for_payer(
        self, actor: Actor, payer_id: int, offset: int = 0, limit: int = 100
    ) -> tuple[list[PaymentView], int]:
        """One payer record's payments, newest first, for the staff app."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return history_page(session, [payer_id], offset, limit)
