"""The payer list's search: which payers match a text, and the first page of them fast.

A payer matches when its name or email contains the text, or when an associated client's
number starts with it (directly, or through an associated matter or invoice).

Two shapes of search need different plans. A narrow one ("liskov") is answered by the search
index in a millisecond. A broad one ("a", "gmail", a client-number prefix shared by thousands
of clients) matches most payers; collecting every match through the index and sorting them
costs 100 ms or more at 100,000 payers, on every keystroke. But the first page of a broad
search lies among the first payers in name order, so :func:`first_page_by_scan` checks just
those few; only when they hold fewer than a page does the search fall back to the index.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, or_, select, union
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Association, Client, Invoice, Matter, Payer
from clientpay_tui.db.search_index import contains, like_escape, prefix_range

SCAN_ROWS = 2000
"""Payers (in name order) checked one by one for the first page of a search."""
CLIENT_FANOUT = 50
"""Above this many clients with the number prefix, start from the associations instead."""


def _association_client() -> ColumnElement[int]:
    """The client an association belongs to, whatever its level."""
    return func.coalesce(
        Association.client_id,
        select(Matter.client_id).where(Matter.id == Association.matter_id).scalar_subquery(),
        select(Invoice.client_id).where(Invoice.id == Association.invoice_id).scalar_subquery(),
    )


def _payers_by_client_number(session: Session, key: str) -> Select[tuple[int]]:
    """Payers associated with a client whose number starts with ``key``."""
    clients = select(Client.id).where(prefix_range(Client.number_key, key))
    many = session.scalar(
        select(func.count()).select_from(clients.limit(CLIENT_FANOUT + 1).subquery())
    )
    if (many or 0) > CLIENT_FANOUT:
        # A short prefix ("c0") names thousands of clients and their million invoices: walk
        # the associations (a few per payer) and look their client up instead.
        return (
            select(Association.payer_id)
            .join(Client, Client.id == _association_client())
            .where(prefix_range(Client.number_key, key))
        )
    return select(Association.payer_id).where(
        or_(
            Association.client_id.in_(clients),
            Association.matter_id.in_(select(Matter.id).where(Matter.client_id.in_(clients))),
            Association.invoice_id.in_(select(Invoice.id).where(Invoice.client_id.in_(clients))),
        )
    )


def matching_ids(session: Session, key: str) -> Select[tuple[int]]:
    """Every payer matching the casefolded search key ``key`` (not empty)."""
    dialect = session.get_bind().dialect.name
    by_text = contains(dialect, Payer.id, [Payer.sort_name, Payer.email_key], key)
    by_client = _payers_by_client_number(session, key)
    # A UNION, not an OR: each half uses its own index (PostgreSQL turns an OR of two
    # subqueries into a scan of every payer).
    matches = union(select(Payer.id).where(by_text), by_client).subquery()
    return select(matches.c[0])


def first_page_by_scan(session: Session, key: str, limit: int) -> list[int] | None:
    """The ids of the first ``limit`` matches in name order, found among the first
    :data:`SCAN_ROWS` payers; ``None`` when those hold fewer (the search is narrow: use the
    index). Exact: any match beyond the scanned payers sorts after all of them."""
    head = (
        select(Payer.id, Payer.sort_name, Payer.email_key)
        .order_by(Payer.sort_name, Payer.id)
        .limit(max(SCAN_ROWS, limit * 20))
        .subquery()
    )
    pattern = f"%{like_escape(key)}%"
    by_client = (
        select(Association.id)
        .join(Client, Client.id == _association_client())
        .where(Association.payer_id == head.c.id, prefix_range(Client.number_key, key))
        .exists()
    )
    ids = session.scalars(
        select(head.c.id)
        .where(
            or_(
                head.c.sort_name.like(pattern, escape="\\"),
                head.c.email_key.like(pattern, escape="\\"),
                by_client,
            )
        )
        .order_by(head.c.sort_name, head.c.id)
        .limit(limit)
    ).all()
    return list(ids) if len(ids) == limit else None
