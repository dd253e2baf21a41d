"""What a payer sees in the portal, a page at a time, and what they may pay, with the reason.

One set of rules and one paged read serve both sides: the staff app's Portal preview tab (one
payer record) and the portal's home page (every record a login covers: one address may stand
for several records, and an invoice covered by two of them is listed once). Payers pay only
invoices from the internal invoicing module or a Connect module, and only while that
integration is enabled; without either the portal lists no invoices at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    case,
    false,
    func,
    literal,
    null,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Client, IntegrationName, Invoice, InvoiceSource, Matter
from clientpay_tui.services.coverage import coverage_levels, coverage_levels_by_payer
from clientpay_tui.services.invoice_visibility import PayerIds, covered_by, visible_invoice_ids
from clientpay_tui.text import plural

NO_INTEGRATION = (
    "No invoicing or Connect integration is enabled: this payer can only manage wallets "
    "and view transaction history."
)
PAYABLE_SOURCES = {
    InvoiceSource.INTERNAL: IntegrationName.INVOICING,
    InvoiceSource.CONNECT: IntegrationName.CONNECT,
}
"""The sources a payer may pay, each while its integration is enabled."""
FIGURES_CAP = 1000
"""The portal and its staff preview count visible invoices this far ("more than 1,000") and
sum what is payable only below it: an exact count and sum read every visible invoice (110-250
ms at 90,000), a capped one and a page of 50 take a few ms of SQL (PostgreSQL's capped count
took ~8 ms per 1,000 on a busy machine, the largest part of the home page)."""


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
class Figures:
    total: int
    """Visible invoices (at most the cap when ``capped``)."""
    payable_cents: int | None
    """The balance payable now, ``None`` when the count was capped (not summed)."""
    any_payable: bool
    capped: bool = False
    """There are more than ``total`` visible invoices."""


@dataclass(frozen=True)
class InvoicePage:
    """One page of the invoices a payer sees, newest first, with figures over all of them."""

    invoices: list[VisibleInvoice]
    offset: int
    limit: int
    figures: Figures
    shows_invoices: bool
    """``False`` when no invoicing or Connect integration is enabled."""
    has_next: bool = False

    @property
    def total(self) -> int:
        """Visible invoices on every page, each counted once (at most the cap, if capped)."""
        return self.figures.total

    @property
    def payable_total_cents(self) -> int | None:
        """The balance payable now over every page (``None`` when the count was capped)."""
        return self.figures.payable_cents

    @property
    def any_payable(self) -> bool:
        return self.figures.any_payable

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def summary(self) -> str:
        if not self.shows_invoices:
            return NO_INTEGRATION
        if self.total == 0:
            return "No invoices are visible: add associations to show this payer invoices."
        if self.figures.capped:
            payable = "some payable now" if self.any_payable else "none payable now"
            return f"More than {self.total:,} invoices visible; {payable}."
        payable_cents = self.figures.payable_cents or 0
        return f"{plural(self.total, 'invoice')} visible; {payable_cents / 100:,.2f} payable now."


def payability(
    source: InvoiceSource, balance_cents: int, integrations: frozenset[IntegrationName]
) -> tuple[bool, str]:
    """Whether an invoice the payer sees can be paid in the portal, and why (not).

    :func:`payable_condition` is the same rule in SQL (a test holds them together).
    """
    if source == InvoiceSource.EXTERNAL:
        return False, "From an external system: paid outside the portal"
    if source == InvoiceSource.INTERNAL and IntegrationName.INVOICING not in integrations:
        return False, "Internal invoicing is not enabled"
    if source == InvoiceSource.CONNECT and IntegrationName.CONNECT not in integrations:
        return False, "The Connect integration is not enabled"
    if balance_cents <= 0:
        return False, "Paid"
    return True, "Payable"


def payable_condition(
    integrations: frozenset[IntegrationName], *, use_indexes: bool = True
) -> ColumnElement[bool]:
    """:func:`payability`'s "Payable" as a SQL condition on ``Invoice``.

    Args:
        use_indexes: ``False`` writes the same test so that no index can serve it (``+ 0``,
            ``|| ''``), for a walk down the date index that tests each row: SQLite otherwise
            reads every open invoice through the balance or source index and sorts them
            (150 ms against 12 ms for the 500 oldest payable of 90,000 visible).
    """
    sources = [source for source, name in PAYABLE_SOURCES.items() if name in integrations]
    if not sources:
        return false()
    if not use_indexes:
        values = [source.value for source in sources]
        return (Invoice.source + "").in_(values) & ((Invoice.balance_cents + 0) > 0)
    return Invoice.source.in_(sources) & (Invoice.balance_cents > 0)


def shows_invoices(integrations: frozenset[IntegrationName]) -> bool:
    return bool(integrations & {IntegrationName.CONNECT, IntegrationName.INVOICING})


def _listed_sources(
    integrations: frozenset[IntegrationName],
) -> ColumnElement[bool] | None:
    """Which sources the portal lists: with Connect, associations decide and every source is
    listed (external ones as not payable); with internal invoicing alone, internal invoices;
    with neither, none (``None``)."""
    if IntegrationName.CONNECT in integrations:
        return true()
    if IntegrationName.INVOICING in integrations:
        return Invoice.source == InvoiceSource.INTERNAL
    return None


def visible_condition(
    payer_ids: PayerIds, integrations: frozenset[IntegrationName], *, per_row: bool = False
) -> ColumnElement[bool]:
    """Invoices the portal lists for a payer record (or several) under the integrations.

    Args:
        per_row: test each invoice against the associations (to walk an index and stop
            after a page) instead of gathering the ids of every visible invoice.
    """
    sources = _listed_sources(integrations)
    if sources is None:
        return false()
    visible = (
        covered_by(payer_ids, probe=True)
        if per_row
        else Invoice.id.in_(visible_invoice_ids(payer_ids))
    )
    return visible & sources


def _payable(integrations: frozenset[IntegrationName]) -> ColumnElement[int]:
    """What of an invoice is payable now: its balance, or 0."""
    return case((payable_condition(integrations), Invoice.balance_cents), else_=literal(0)).label(
        "payable"
    )


def _figures(total: int, payable_cents: int, cap: int | None) -> Figures:
    """The figures of ``total`` visible invoices (or more, counted past ``cap``)."""
    if cap is None or total <= cap:
        return Figures(total, payable_cents, payable_cents > 0)
    return Figures(cap, None, payable_cents > 0, capped=True)


def visible_figures(
    session: Session,
    payer_ids: PayerIds,
    integrations: frozenset[IntegrationName],
    *,
    cap: int | None = None,
) -> Figures:
    """How many invoices ``payer_ids`` see and how much of them is payable now.

    Summed over the non-overlapping association levels (:func:`coverage_levels`): each part is
    read through its own index and nothing has to de-duplicate every visible id first. Each
    visible invoice still costs a row read (~1 us on SQLite, ~2.5 us on PostgreSQL: 100-250 ms
    at 90,000), so the portal passes a ``cap``: beyond it the count stops, the sum is not taken
    and only whether anything is payable is asked (which stops at the first payable invoice).
    """
    sources = _listed_sources(integrations)
    if sources is None:
        return Figures(0, 0, False)
    payable = _payable(integrations)
    levels = [
        level.where(sources) for level in coverage_levels(session, payer_ids, Invoice.id, payable)
    ]
    parts = []
    for rows in levels:
        part = (rows if cap is None else rows.limit(cap + 1)).subquery()
        parts.append(
            select(
                func.count().label("n"),
                func.coalesce(func.sum(part.c.payable), 0).label("cents"),
            ).select_from(part)
        )
    summed = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    counted = func.coalesce(func.sum(summed.c.n), 0)
    columns: list[ColumnElement[Any]] = [counted, func.coalesce(func.sum(summed.c.cents), 0)]
    if cap is not None:
        # Past the cap, whether anything is payable, in the same statement (a round trip
        # fewer). Only evaluated past the cap: the CASE branch is where both backends first
        # need the uncorrelated sub-queries' values.
        payable_now = payable_condition(integrations)
        anything = or_(*(rows.where(payable_now).limit(1).exists() for rows in levels))
        columns.append(case((counted > cap, anything), else_=null()))
    found = session.execute(select(*columns)).one()
    total = int(found[0])
    if cap is None or total <= cap:
        return _figures(total, int(found[1]), cap)
    # Each part stopped at the cap: its sum is partial; the CASE said whether anything is.
    return _figures(total, 1 if found[2] else 0, cap)


def visible_figures_by_payer(
    session: Session,
    payer_ids: Sequence[int],
    integrations: frozenset[IntegrationName],
    *,
    cap: int | None = None,
) -> dict[int, Figures]:
    """:func:`visible_figures` of each of ``payer_ids`` (records, not logins) in one query:
    the same parts (:func:`coverage_levels_by_payer`), grouped by payer. Every visible invoice
    of the chunk is read (no ``LIMIT`` per payer), so a payer past ``cap`` costs its rows;
    the figures are the same (a test holds them together)."""
    sources = _listed_sources(integrations)
    if sources is None or not payer_ids:
        return {payer_id: Figures(0, 0, False) for payer_id in payer_ids}
    levels = coverage_levels_by_payer(payer_ids, _payable(integrations))
    rows = union_all(*(level.where(sources) for level in levels)).subquery()
    payer, payable = rows.c[0], rows.c[1]
    found = {
        int(payer_id): (int(total), int(cents))
        for payer_id, total, cents in session.execute(
            select(payer, func.count(), func.coalesce(func.sum(payable), 0)).group_by(payer)
        )
    }
    return {payer_id: _figures(*found.get(payer_id, (0, 0)), cap) for payer_id in payer_ids}


def invoice_page(
    session: Session,
    payer_ids: PayerIds,
    integrations: frozenset[IntegrationName],
    *,
    offset: int = 0,
    limit: int = 50,
    figures_cap: int | None = None,
) -> InvoicePage:
    """A page of the invoices ``payer_ids`` see, newest first (date, then id, descending).

    Args:
        figures_cap: count the visible invoices only this far (see :func:`visible_figures`).
    """
    if not shows_invoices(integrations):
        return InvoicePage([], offset, limit, Figures(0, 0, False), False)
    figures = visible_figures(session, payer_ids, integrations, cap=figures_cap)
    total = figures.total
    newest = Invoice.invoice_date.desc(), Invoice.id.desc()
    # Pick the page first, then join its clients and matters: joining every visible invoice
    # before the sort cost a second at 90,000 on PostgreSQL. Many visible invoices are found
    # sooner by walking the date index and testing each (reads about rows * invoices / total
    # rows) than by gathering and sorting them all (reads total); they cost the same near
    # sqrt(rows * invoices). Gathering 90,000 on PostgreSQL hash-joined every invoice of the
    # firm: 350 ms.
    walk = figures.capped  # past the cap there are many: walk (and skip the firm's size)
    if not walk:
        invoices_in_firm = int(session.scalar(select(func.max(Invoice.id))) or 0)
        walk = total * total >= (offset + limit) * invoices_in_firm
    in_page = visible_condition(payer_ids, integrations, per_row=walk)
    # One row more than the page tells whether another page follows, whatever the count.
    page = select(Invoice.id).where(in_page).order_by(*newest).offset(offset).limit(limit + 1)
    # Plain columns, not ORM objects: a page is read, never changed, and rows are cheaper.
    rows = session.execute(
        select(
            Invoice.id,
            Client.number,
            Client.name,
            Matter.number,
            Matter.description,
            Invoice.number,
            Invoice.invoice_date,
            Invoice.amount_cents,
            Invoice.balance_cents,
            Invoice.source,
        )
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(Matter, Matter.id == Invoice.matter_id)
        .where(Invoice.id.in_(page.scalar_subquery()))
        .order_by(*newest)
    ).all()
    has_next = len(rows) > limit
    invoices = []
    for row in rows[:limit]:
        (invoice_id, client_number, client_name, matter_number, description) = row[:5]
        (number, invoice_date, amount, balance, source) = row[5:]
        payable, reason = payability(source, balance, integrations)
        invoices.append(
            VisibleInvoice(
                invoice_id=invoice_id,
                client_number=client_number,
                client_name=client_name,
                matter_number=matter_number,
                matter_description=description,
                invoice_number=number,
                invoice_date=invoice_date,
                amount_cents=amount,
                balance_cents=balance,
                source=source,
                payable=payable,
                reason=reason,
            )
        )
    return InvoicePage(invoices, offset, limit, figures, True, has_next)


def visible_invoice(
    session: Session,
    payer_ids: PayerIds,
    integrations: frozenset[IntegrationName],
    invoice_id: int,
) -> Invoice | None:
    """The invoice if ``payer_ids`` see it, else ``None`` (whether or not it exists)."""
    condition = visible_condition(payer_ids, integrations, per_row=True)
    return session.scalars(select(Invoice).where(Invoice.id == invoice_id, condition)).first()
