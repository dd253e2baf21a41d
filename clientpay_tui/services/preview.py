"""What a payer sees in the portal and what they may pay, with the reason when not.

Payers pay only invoices from the internal invoicing module or a Connect module, and only while
that integration is enabled. Without either integration the portal shows wallets and
transaction history only. The staff app's Portal preview tab and the portal functions share
these rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from clientpay_tui.db.models import IntegrationName, Payer
from clientpay_tui.errors import NotFound
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.visible_invoices import (
    FIGURES_CAP,
    NO_INTEGRATION,
    InvoicePage,
    VisibleInvoice,
    invoice_page,
    payability,
    visible_condition,
)

__all__ = [
    "NO_INTEGRATION",
    "InvoicePage",
    "PortalView",
    "PreviewService",
    "VisibleInvoice",
    "payability",
    "portal_view",
    "visible_condition",
]


@dataclass(frozen=True)
class PortalView:
    payer_id: int
    integrations: frozenset[IntegrationName]
    shows_invoices: bool
    summary: str
    invoices: list[VisibleInvoice]
    invoice_count: int
    invoice_count_capped: bool
    """More invoices are visible than ``invoice_count`` (see :data:`FIGURES_CAP`)."""
    payable_balance_cents: int
    """0 when the count was capped (not summed)."""


def portal_view(session: Session, payer_id: int, *, invoice_limit: int = 200) -> PortalView:
    """The invoices the payer's portal shows, newest first, and its figures (wallets and
    payments: :mod:`clientpay_tui.services.payments`)."""
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"Payer {payer_id} does not exist (any more).")
    integrations = enabled_integrations(session)
    page = invoice_page(
        session, payer_id, integrations, limit=invoice_limit, figures_cap=FIGURES_CAP
    )
    return PortalView(
        payer_id=payer_id,
        integrations=integrations,
        shows_invoices=page.shows_invoices,
        summary=page.summary,
        invoices=page.invoices,
        invoice_count=page.total,
        invoice_count_capped=page.figures.capped,
        payable_balance_cents=page.payable_total_cents or 0,
    )


class PreviewService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def portal_view(self, actor: Actor, payer_id: int) -> PortalView:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return portal_view(session, payer_id)

    def invoice_page(
        self, actor: Actor, payer_id: int, offset: int = 0, limit: int = 50
    ) -> InvoicePage:
        """One page of what the payer sees in the portal, newest first: the portal's home page
        reads the same pages (:meth:`clientpay_tui.portal.overview.PortalOverview.home`)."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            if session.get(Payer, payer_id) is None:
                raise NotFound(f"Payer {payer_id} does not exist (any more).")
            integrations = enabled_integrations(session)
            return invoice_page(
                session, payer_id, integrations, offset=offset, limit=limit, figures_cap=FIGURES_CAP
            )
