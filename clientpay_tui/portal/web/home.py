"""``/``: the signed-in payer's home. Their name(s) and firm, the invoices their associations
cover a page at a time (newest first), each payable or not with the reason, and a Pay Invoices
link only when something is payable. The page comes from the same service as the staff app's
Portal preview (:meth:`clientpay_tui.portal.overview.PortalOverview.home`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientpay_tui.portal.overview import HOME_PAGE_SIZE
from clientpay_tui.portal.web.pages import call, portal, render, require_payer
from clientpay_tui.services.visible_invoices import InvoicePage, VisibleInvoice

LAST_PAGE = 100_000
"""Page numbers past this are read as this (a huge offset is no one's page)."""


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


@dataclass(frozen=True)
class InvoiceRow:
    """One table row, as text (the template escapes it)."""

    client: str
    matter: str
    number: str
    date: str
    amount: str
    balance: str
    payable: bool
    reason: str

    @classmethod
    def of(cls, invoice: VisibleInvoice) -> InvoiceRow:
        matter = " ".join(
            part for part in (invoice.matter_number, invoice.matter_description) if part
        )
        return cls(
            client=f"{invoice.client_number} {invoice.client_name}",
            matter=matter,
            number=invoice.invoice_number,
            date=invoice.invoice_date.isoformat(),
            amount=money(invoice.amount_cents),
            balance=money(invoice.balance_cents),
            payable=invoice.payable,
            reason=invoice.reason,
        )


def page_number(request: Request) -> int:
    """``?page=N`` (1 for anything that is not a positive whole number)."""
    raw = request.query_params.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) < 10 else 1
    return min(max(number, 1), LAST_PAGE)


def shown(page: InvoicePage) -> str:
    """``Invoices 51 to 100 of 90,659`` (or ``of more than 1,000``)."""
    if not page.invoices:
        return "No invoices on this page."
    first, last = page.offset + 1, page.offset + len(page.invoices)
    of = f"more than {page.total:,}" if page.figures.capped else f"{page.total:,}"
    return f"Invoices {first:,} to {last:,} of {of}, newest first."


async def home(request: Request) -> Response:
    _session, identity = await require_payer(request)
    number = page_number(request)
    offset = (number - 1) * HOME_PAGE_SIZE
    view = await call(portal(request).overview.home, identity.login_id, offset, identity=identity)
    page = view.page
    payable = page.payable_total_cents
    return await render(
        request,
        "home.html",
        identity=identity,
        names=view.names,
        page=page,
        rows=[InvoiceRow.of(invoice) for invoice in page.invoices],
        shown=shown(page),
        payable_now=money(payable) if payable else None,
        newer=(number - 1 if page.invoices else 1) if page.has_previous else None,
        older=number + 1 if page.has_next else None,
    )


ROUTES = [Route("/", home, methods=["GET"])]
