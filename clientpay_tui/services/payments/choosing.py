"""Choosing what to pay: the payable invoices of a login, and an allocation of a payment
(chosen invoices in full, or an amount spread oldest first), by the portal's own rules
(:mod:`clientpay_tui.services.visible_invoices`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Client, Invoice, Matter
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.payments.views import (
    NOT_SHOWN,
    Allocation,
    PayableInvoice,
    Payables,
    money,
)
from clientpay_tui.services.visible_invoices import (
    FIGURES_CAP,
    payability,
    payable_condition,
    visible_condition,
    visible_figures,
)

PAYABLE_SHOWN = 500
"""The pay page lists at most this many payable invoices (oldest first)."""
OLDEST_FIRST = (Invoice.invoice_date, Invoice.id)


def payable_now(
    session: Session, payer_ids: tuple[int, ...], *, walk: bool = False
) -> ColumnElement[bool]:
    """Invoices ``payer_ids`` see and may pay now.

    Args:
        walk: test each invoice row by row (walking the date index, for a payer who sees many
            invoices) instead of gathering every visible one first.
    """
    integrations = enabled_integrations(session)
    return visible_condition(payer_ids, integrations, per_row=walk) & payable_condition(
        integrations, use_indexes=not walk
    )


def payables(
    session: Session,
    payer_ids: tuple[int, ...],
    limit: int = PAYABLE_SHOWN,
    cap: int = FIGURES_CAP,
) -> Payables:
    """The payable invoices, oldest first (``limit`` of them), their count and their sum.

    A payer who sees more than ``cap`` invoices is walked (oldest first, each row tested), and
    when a whole page is payable the count and sum are not taken (``total_cents`` is
    ``None``). At 90,000 visible invoices gathering took 250-430 ms on SQLite and 1.4 s on
    PostgreSQL; walking 70 ms and 300-600 ms.
    """
    if not payer_ids:
        return Payables([], 0, 0)
    integrations = enabled_integrations(session)
    walk = visible_figures(session, payer_ids, integrations, cap=cap).capped
    condition = payable_now(session, payer_ids, walk=walk)
    # The page's ids first, then their clients and matters: as one statement PostgreSQL
    # planned the walk as a join of everything visible (540 against 140 ms at 90,000).
    page = list(
        session.scalars(select(Invoice.id).where(condition).order_by(*OLDEST_FIRST).limit(limit))
    )
    rows = session.execute(
        select(Invoice, Client.name, Matter.description)
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(Matter, Matter.id == Invoice.matter_id)
        .where(Invoice.id.in_(page))
        .order_by(*OLDEST_FIRST)
    ).all()
    invoices = [
        PayableInvoice(i.id, i.number, i.invoice_date, client, matter, i.balance_cents)
        for i, client, matter in rows
    ]
    if walk and len(page) == limit:
        # Many visible, a full page payable: counting and summing them all is what costs.
        return Payables(invoices, len(page), None)
    count, total = session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.balance_cents), 0)).where(
            condition
        )
    ).one()
    return Payables(invoices, int(count), int(total))


def allocate(
    session: Session,
    payer_ids: tuple[int, ...],
    invoice_ids: Sequence[int] | None,
    amount_cents: int | None,
) -> list[Allocation]:
    """Chosen invoices in full, or ``amount_cents`` spread over the oldest payable first.

    Raises:
        ValidationFailed: nothing chosen; an invoice not shown or not payable; an amount of
            zero or more than is open.
    """
    if invoice_ids is not None:
        return chosen(session, payer_ids, invoice_ids)
    if amount_cents is None or amount_cents <= 0:
        raise ValidationFailed("Enter an amount to pay, more than zero.")
    integrations = enabled_integrations(session)
    walk = visible_figures(session, payer_ids, integrations, cap=FIGURES_CAP).capped
    condition = payable_now(session, payer_ids, walk=walk)
    left, allocations, offset = amount_cents, [], 0
    while left > 0:
        chunk = session.execute(
            select(Invoice.id, Invoice.number, Invoice.balance_cents)
            .where(condition)
            .order_by(*OLDEST_FIRST)
            .offset(offset)
            .limit(PAYABLE_SHOWN)
        ).all()
        if not chunk:
            raise ValidationFailed(
                f"That is more than you can pay now ({money(amount_cents - left)} is open)."
            )
        for invoice_id, number, balance in chunk:
            part = min(left, balance)
            allocations.append(Allocation(invoice_id, number, part))
            left -= part
            if left == 0:
                break
        offset += len(chunk)
    return allocations


def chosen(
    session: Session, payer_ids: tuple[int, ...], invoice_ids: Sequence[int]
) -> list[Allocation]:
    """Each chosen invoice's whole balance, oldest first; every one must be payable."""
    wanted = sorted(set(invoice_ids))
    if not wanted:
        raise ValidationFailed("Choose at least one invoice to pay.")
    integrations = enabled_integrations(session)
    found = {
        invoice.id: invoice
        for invoice in session.scalars(
            select(Invoice).where(
                # Per row: a few chosen ids probe the association indexes, instead of
                # gathering every invoice the payer sees.
                Invoice.id.in_(wanted),
                visible_condition(payer_ids, integrations, per_row=True),
            )
        )
    }
    for invoice_id in wanted:
        invoice = found.get(invoice_id)
        if invoice is None:
            raise ValidationFailed(NOT_SHOWN)
        payable, reason = payability(invoice.source, invoice.balance_cents, integrations)
        if not payable:
            raise ValidationFailed(f"{invoice.number} cannot be paid here: {reason}.")
    ordered = sorted(found.values(), key=lambda i: (i.invoice_date, i.id))
    return [Allocation(i.id, i.number, i.balance_cents) for i in ordered]
