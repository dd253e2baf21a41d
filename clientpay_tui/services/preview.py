"""What a payer sees in the portal and what they may pay, with the reason when not.

Payers pay only invoices from the internal invoicing module or a Connect module, and only while
that integration is enabled. Without either integration the portal shows wallets and
transaction history only. The staff app's Portal preview tab and the portal functions share
these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, false, func, literal, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import (
    Client,
    IntegrationName,
    Invoice,
    InvoiceSource,
    Matter,
    Payer,
    Transaction,
    Wallet,
)
from clientpay_tui.errors import NotFound
from clientpay_tui.services.candidates import covered_by, visible_invoice_ids
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.text import plural

NO_INTEGRATION = (
    "No invoicing or Connect integration is enabled: this payer can only manage wallets "
    "and view transaction history."
)


@dataclass(frozen=True)
class VisibleInvoice:
    invoice_id: int
    client_number: str
    client_name: str
    matter_number: str | None
    matter_description: str | None
    invoice_number: str
    invoice_date: date
    amount_cents: int
    balance_cents: int
    source: InvoiceSource
    payable: bool
    reason: str
    """Why it is or is not payable, for staff and the portal alike."""


@dataclass(frozen=True)
class WalletView:
    id: int
    kind: str
    label: str
    is_default: bool
    created_at: datetime


@dataclass(frozen=True)
class TransactionView:
    id: int
    created_at: datetime
    description: str
    amount_cents: int
    status: str
    wallet_label: str | None


@dataclass(frozen=True)
class PortalView:
    payer_id: int
    integrations: frozenset[IntegrationName]
    shows_invoices: bool
    summary: str
    invoices: list[VisibleInvoice]
    invoice_count: int
    payable_balance_cents: int
    wallets: list[WalletView]
    transactions: list[TransactionView]


def payability(
    source: InvoiceSource, balance_cents: int, integrations: frozenset[IntegrationName]
) -> tuple[bool, str]:
    """Whether an invoice the payer sees can be paid in the portal, and why (not)."""
    if source == InvoiceSource.EXTERNAL:
        return False, "From an external system: paid outside the portal"
    if source == InvoiceSource.INTERNAL and IntegrationName.INVOICING not in integrations:
        return False, "Internal invoicing is not enabled"
    if source == InvoiceSource.CONNECT and IntegrationName.CONNECT not in integrations:
        return False, "The Connect integration is not enabled"
    if balance_cents <= 0:
        return False, "Paid"
    return True, "Payable"


def visible_condition(
    payer_id: int, integrations: frozenset[IntegrationName], *, per_row: bool = False
) -> ColumnElement[bool]:
    """Invoices the portal lists for a payer under the enabled integrations.

    With Connect, associations decide and every source is listed (external ones as not
    payable). With internal invoicing alone, associated internal invoices are listed. With
    neither, no invoice is.

    Args:
        per_row: test each invoice against the payer's associations (to walk an index and stop
            after a page) instead of gathering the ids of every visible invoice.
    """
    visible = covered_by(payer_id) if per_row else Invoice.id.in_(visible_invoice_ids(payer_id))
    if IntegrationName.CONNECT in integrations:
        return visible
    if IntegrationName.INVOICING in integrations:
        return visible & (Invoice.source == InvoiceSource.INTERNAL)
    return false()


def portal_view(
    session: Session, payer_id: int, *, invoice_limit: int = 200, history_limit: int = 100
) -> PortalView:
    """Everything the payer's portal shows, newest invoices first."""
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"Payer {payer_id} does not exist (any more).")
    integrations = enabled_integrations(session)
    condition = visible_condition(payer_id, integrations)
    shows_invoices = bool(integrations & {IntegrationName.CONNECT, IntegrationName.INVOICING})
    invoices: list[VisibleInvoice] = []
    count = payable_total = 0
    if shows_invoices:
        payable_sources = [
            source
            for source, name in (
                (InvoiceSource.INTERNAL, IntegrationName.INVOICING),
                (InvoiceSource.CONNECT, IntegrationName.CONNECT),
            )
            if name in integrations
        ]
        payable_now = Invoice.source.in_(payable_sources) & (Invoice.balance_cents > 0)
        # One pass over the visible invoices for both figures (each pass is ~300 ms at 90,000
        # visible invoices on PostgreSQL).
        counted, payable_sum = session.execute(
            select(
                func.count(Invoice.id),
                func.coalesce(
                    func.sum(case((payable_now, Invoice.balance_cents), else_=literal(0))), 0
                ),
            ).where(condition)
        ).one()
        count, payable_total = int(counted or 0), int(payable_sum or 0)
        newest = Invoice.invoice_date.desc(), Invoice.id.desc()
        # Pick the page first, then join its clients and matters: joining every visible
        # invoice before the sort cost a second at 90,000 on PostgreSQL. Many visible invoices
        # are found sooner by walking the date index and testing each (reads about
        # limit * invoices / count rows) than by gathering and sorting them all (reads count);
        # they cost the same near sqrt(limit * invoices). Gathering 90,000 on PostgreSQL
        # hash-joined every invoice of the firm: 350 ms.
        invoices_in_firm = int(session.scalar(select(func.max(Invoice.id))) or 0)
        walk = count * count >= invoice_limit * invoices_in_firm
        in_page = visible_condition(payer_id, integrations, per_row=walk)
        page = select(Invoice.id).where(in_page).order_by(*newest).limit(invoice_limit)
        rows = session.execute(
            select(Invoice, Client.number, Client.name, Matter.number, Matter.description)
            .join(Client, Client.id == Invoice.client_id)
            .outerjoin(Matter, Matter.id == Invoice.matter_id)
            .where(Invoice.id.in_(page.scalar_subquery()))
            .order_by(*newest)
        ).all()
        for invoice, client_number, client_name, matter_number, description in rows:
            payable, reason = payability(invoice.source, invoice.balance_cents, integrations)
            invoices.append(
                VisibleInvoice(
                    invoice_id=invoice.id,
                    client_number=client_number,
                    client_name=client_name,
                    matter_number=matter_number,
                    matter_description=description,
                    invoice_number=invoice.number,
                    invoice_date=invoice.invoice_date,
                    amount_cents=invoice.amount_cents,
                    balance_cents=invoice.balance_cents,
                    source=invoice.source,
                    payable=payable,
                    reason=reason,
                )
            )
    if not shows_invoices:
        summary = NO_INTEGRATION
    elif count == 0:
        summary = "No invoices are visible: add associations to show this payer invoices."
    else:
        summary = f"{plural(count, 'invoice')} visible; {payable_total / 100:,.2f} payable now."
    wallets = [
        WalletView(w.id, w.kind, w.label, w.is_default, w.created_at)
        for w in session.scalars(
            select(Wallet).where(Wallet.payer_id == payer_id).order_by(Wallet.id)
        )
    ]
    labels = {w.id: w.label for w in wallets}
    transactions = [
        TransactionView(
            t.id,
            t.created_at,
            t.description,
            t.amount_cents,
            t.status,
            labels.get(t.wallet_id or 0),
        )
        for t in session.scalars(
            select(Transaction)
            .where(Transaction.payer_id == payer_id)
            .order_by(Transaction.created_at.desc(), Transaction.id.desc())
            .limit(history_limit)
        )
    ]
    return PortalView(
        payer_id=payer_id,
        integrations=integrations,
        shows_invoices=shows_invoices,
        summary=summary,
        invoices=invoices,
        invoice_count=count,
        payable_balance_cents=payable_total,
        wallets=wallets,
        transactions=transactions,
    )


class PreviewService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def portal_view(self, actor: Actor, payer_id: int) -> PortalView:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return portal_view(session, payer_id)
