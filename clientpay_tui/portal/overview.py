"""What a signed-in payer sees in the portal and what they may pay.

The rules are the staff app's Portal preview rules (:mod:`clientpay_tui.services.preview`),
applied to each payer record the login covers: one address may stand for several records, and
the portal shows everything each of them covers.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from clientpay_tui.db.models import Invoice, PortalLogin
from clientpay_tui.errors import NotFound
from clientpay_tui.portal.common import PortalIdentity, PortalPart, identity_of
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.preview import PortalView, payability, portal_view, visible_condition
from clientpay_tui.services.visible_invoices import FIGURES_CAP, InvoicePage, invoice_page

NOT_SHOWN = "This invoice is not shown in your portal."
HOME_PAGE_SIZE = 50


@dataclass(frozen=True)
class PortalHome:
    """The portal's home page: who is signed in and a page of what they see."""

    identity: PortalIdentity
    names: tuple[str, ...]
    """The names of the login's payer records, oldest record first, each once."""
    page: InvoicePage


@dataclass(frozen=True)
class LoginView:
    """The whole portal of one login: one :class:`PortalView` per payer record."""

    identity: PortalIdentity
    records: list[PortalView]

    @property
    def payable_balance_cents(self) -> int:
        """What can be paid now across the records (an invoice covered twice counts once)."""
        seen: dict[int, int] = {}
        for record in self.records:
            for invoice in record.invoices:
                if invoice.payable:
                    seen[invoice.invoice_id] = invoice.balance_cents
        return sum(seen.values())


@dataclass(frozen=True)
class PayDecision:
    payable: bool
    reason: str


class PortalOverview(PortalPart):
    def home(
        self,
        login_id: int,
        offset: int = 0,
        limit: int = HOME_PAGE_SIZE,
        *,
        figures_cap: int | None = FIGURES_CAP,
        identity: PortalIdentity | None = None,
    ) -> PortalHome:
        """The home page: a page of the invoices every record of the login covers (an invoice
        covered twice is listed once), newest first, from the same read as the staff app's
        Portal preview (:meth:`~clientpay_tui.services.preview.PreviewService.invoice_page`).

        Args:
            identity: the login's identity as the request's session check just read it, with
                its records and their names (saves reading them again).

        Raises:
            NotFound: the login was deleted (the payer's session must end).
        """
        with self.ctx.db.read(each_statement=True) as session:
            if identity is None or identity.login_id != login_id:
                login = session.get(PortalLogin, login_id)
                if login is None:
                    raise NotFound("This portal login no longer exists.")
                identity = identity_of(session, login)
            page = invoice_page(
                session,
                identity.payer_ids,
                enabled_integrations(session),
                offset=max(offset, 0),
                limit=limit,
                figures_cap=figures_cap,
            )
            return PortalHome(identity, identity.names, page)

    def view(self, login_id: int) -> LoginView:
        """Everything the login's portal shows, record by record.

        Raises:
            NotFound: the login was deleted (the payer's session must end).
        """
        with self.ctx.db.read() as session:
            login = session.get(PortalLogin, login_id)
            if login is None:
                raise NotFound("This portal login no longer exists.")
            identity = identity_of(session, login)
            return LoginView(identity, [portal_view(session, pid) for pid in identity.payer_ids])

    def may_pay(self, login_id: int, invoice_id: int) -> PayDecision:
        """Whether the login may pay one invoice now, and why not.

        An invoice the login does not see gets the same answer whether or not it exists.
        """
        with self.ctx.db.read() as session:
            login = session.get(PortalLogin, login_id)
            if login is None:
                raise NotFound("This portal login no longer exists.")
            payer_ids = identity_of(session, login).payer_ids
            integrations = enabled_integrations(session)
            invoice = None
            if payer_ids:
                invoice = session.scalars(
                    select(Invoice).where(
                        Invoice.id == invoice_id,
                        or_(*(visible_condition(pid, integrations) for pid in payer_ids)),
                    )
                ).first()
            if invoice is None:
                return PayDecision(False, NOT_SHOWN)
            return PayDecision(*payability(invoice.source, invoice.balance_cents, integrations))
