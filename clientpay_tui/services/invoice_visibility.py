"""Which invoices a payer sees: its associations at client, matter and invoice level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, or_, select, union

from clientpay_tui.db.models import Association, Invoice

PayerIds = int | tuple[int, ...]
"""One payer record, or several (the records a portal login covers): they see the union."""


def _mine(payer_ids: PayerIds) -> ColumnElement[bool]:
    if isinstance(payer_ids, int):
        return Association.payer_id == payer_ids
    if len(payer_ids) == 1:
        return Association.payer_id == payer_ids[0]
    return Association.payer_id.in_(payer_ids)


def covered_by(payer_ids: PayerIds, *, probe: bool = False) -> ColumnElement[bool]:
    """The invoice is visible to ``payer_ids`` through any association level.

    Checked row by row (a flag on a page of candidates): one ``EXISTS`` per level, so that each
    probes its ``(payer_id, target)`` unique index. A single ``EXISTS`` with an ``OR`` inside
    scanned every association of the payer for every invoice.

    Args:
        probe: keep each ``EXISTS`` a probe per invoice on PostgreSQL too (``OFFSET 0``), which
            otherwise hashes every association of the payer first even when a page of 50
            needs a few hundred probes.
    """
    mine = _mine(payer_ids)

    def has(column: Any, target: Any) -> ColumnElement[bool]:
        found = select(Association.id).where(mine, column == target)
        return exists(found.offset(0) if probe else found)

    return or_(
        has(Association.invoice_id, Invoice.id),
        and_(Invoice.matter_id.is_not(None), has(Association.matter_id, Invoice.matter_id)),
        has(Association.client_id, Invoice.client_id),
    )


def visible_invoice_ids(payer_ids: PayerIds) -> Select[tuple[int]]:
    """The ids of every invoice ``payer_ids`` see, driven from the payers' associations.

    For whole-set questions (the portal's list, counts, sums) this beats :func:`covered_by`,
    which would have to be tried on every invoice of the firm.
    """
    mine = _mine(payer_ids)
    # The not-nulls skip the payer's rows of other levels inside the (payer_id, target) index.
    return union(
        select(Association.invoice_id).where(mine, Association.invoice_id.is_not(None)),
        select(Invoice.id)
        .join(Association, Association.matter_id == Invoice.matter_id)
        .where(mine, Association.matter_id.is_not(None)),
        select(Invoice.id)
        .join(Association, Association.client_id == Invoice.client_id)
        .where(mine, Association.client_id.is_not(None)),
    )  # type: ignore[return-value]
