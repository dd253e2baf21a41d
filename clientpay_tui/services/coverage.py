"""The invoices a payer record sees, in non-overlapping parts by the widest association level
that covers each (a client, else a matter, else the invoice itself), for counts and sums that
add up without de-duplicating every visible id first.

One builder (:func:`_levels`) writes the parts for one payer (or a login's records:
:func:`coverage_levels`, the portal and the staff preview) and for a chunk of payer records
at once (:func:`coverage_levels_by_payer`, the access review): only how "this payer holds an
association with that client / matter" is written differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, exists, literal_column, select, true, union
from sqlalchemy.orm import Session, aliased

from clientpay_tui.db.models import Association, Invoice
from clientpay_tui.services.invoice_visibility import PayerIds, _mine

Uncovered = Callable[[Any], ColumnElement[bool]]
"""``column`` (an invoice's client or matter id) is not one the payer is associated with."""


def _levels(
    by_client: Select[Any] | None,
    by_matter: Select[Any] | None,
    by_invoice: Select[Any],
    client_uncovered: Uncovered,
    matter_uncovered: Uncovered,
) -> list[Select[Any]]:
    """The three parts, each kept to the invoices no wider level covers.

    Args:
        by_client, by_matter, by_invoice: the invoices of the payer's client, matter and
            invoice associations (``None``: the payer has none at that level).
    """
    parts = [] if by_client is None else [by_client]
    if by_matter is not None:
        parts.append(by_matter.where(client_uncovered(Invoice.client_id)))
    parts.append(
        by_invoice.where(client_uncovered(Invoice.client_id), matter_uncovered(Invoice.matter_id))
    )
    return parts


def _client_and_matter_targets(
    session: Session, mine: ColumnElement[bool]
) -> tuple[list[int], list[int]]:
    """The clients and the matters the payers are associated with, sorted, in one statement
    (a round trip fewer: the portal's home page runs this on every request)."""
    client, matter = Association.client_id, Association.matter_id
    found = session.execute(
        union(
            select(literal_column("0", Integer), client).where(mine, client.is_not(None)),
            select(literal_column("1", Integer), matter).where(mine, matter.is_not(None)),
        )
    ).all()
    clients: list[int] = []
    matters: list[int] = []
    for kind, target in found:
        assert target is not None
        (matters if kind else clients).append(target)
    return sorted(clients), sorted(matters)


def coverage_levels(session: Session, payer_ids: PayerIds, *columns: Any) -> list[Select[Any]]:
    """``columns`` of the invoices ``payer_ids`` see, in parts (see the module).

    A ``LIMIT`` stops each part early. The payers' client and matter associations are read
    first (a few rows): as lists of values they give PostgreSQL true estimates; as sub-queries
    under a ``LIMIT`` it took them for many rows and scanned the whole invoice table hoping to
    stop early (2.5 s at 1,000,000 invoices).
    """
    mine = _mine(payer_ids)
    clients, matters = _client_and_matter_targets(session, mine)

    def client_uncovered(column: Any) -> ColumnElement[bool]:
        return column.not_in(clients) if clients else true()

    def matter_uncovered(column: Any) -> ColumnElement[bool]:
        return column.is_(None) | column.not_in(matters) if matters else true()

    by_invoice = (
        select(*columns)
        .join(Association, Association.invoice_id == Invoice.id)
        .where(mine, Association.invoice_id.is_not(None))
    )
    if not isinstance(payer_ids, int) and len(payer_ids) > 1:
        # Two records of one login may both hold an association with the same invoice: keep
        # the lowest record's. A per-row probe, unlike DISTINCT, which sorted all 90,000 rows
        # before the LIMIT could stop anything (460 ms on PostgreSQL).
        earlier = aliased(Association)
        by_invoice = by_invoice.where(
            ~exists(
                select(earlier.id).where(
                    earlier.invoice_id == Association.invoice_id,
                    earlier.payer_id.in_(payer_ids),
                    earlier.payer_id < Association.payer_id,
                )
            )
        )
    return _levels(
        select(*columns).where(Invoice.client_id.in_(clients)) if clients else None,
        select(*columns).where(Invoice.matter_id.in_(matters)) if matters else None,
        by_invoice,
        client_uncovered,
        matter_uncovered,
    )


def coverage_levels_by_payer(payer_ids: Sequence[int], *columns: Any) -> list[Select[Any]]:
    """:func:`coverage_levels` for each of ``payer_ids`` on its own (a record, not a login),
    in one set of parts whose first column is the payer's id: group by it for per-payer
    counts and sums. Each part is driven from the payers' associations of its level."""
    mine = Association.payer_id.in_(list(payer_ids))

    def driven_by(column: Any, target: Any) -> Select[Any]:
        return (
            select(Association.payer_id, *columns)
            .select_from(Association)
            .join(Invoice, target == column)
            .where(mine, column.is_not(None))
        )

    def uncovered(level: Any) -> Uncovered:
        def test(column: Any) -> ColumnElement[bool]:
            other = aliased(Association)
            own = getattr(other, level.key)
            # Probes the (payer_id, target) unique index of that level.
            return ~exists(
                select(other.id).where(other.payer_id == Association.payer_id, own == column)
            )

        return test

    return _levels(
        driven_by(Association.client_id, Invoice.client_id),
        driven_by(Association.matter_id, Invoice.matter_id),
        driven_by(Association.invoice_id, Invoice.id),
        uncovered(Association.client_id),
        uncovered(Association.matter_id),
    )
