"""How a candidate-invoice search is planned and written as SQL conditions on ``Invoice``.

Each lookup of a filter (the search text, the client and matter filters) is estimated from the
small tables; a broad search walks the sort order's index and stops after a page, a narrow one
gathers its matches through the lookup's index (:func:`walk_sort_order`,
:func:`driving_lookup`), and :func:`candidate_conditions` writes the conditions to match.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, union
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Client, Invoice, Matter
from clientpay_tui.db.search_index import MIN_TRIGRAM, contains, count_matches, prefix_range
from clientpay_tui.services.validation import number_key, search_key

if TYPE_CHECKING:
    from clientpay_tui.services.candidates import CandidateFilter


def _client_ids(dialect: str, text: str) -> Select[Any]:
    return select(Client.id).where(
        or_(
            prefix_range(Client.number_key, number_key(text)),
            contains(dialect, Client.id, [Client.name_key], search_key(text)),
        )
    )


def _matter_ids(dialect: str, text: str) -> Select[Any]:
    return select(Matter.id).where(
        or_(
            prefix_range(Matter.number_key, number_key(text)),
            contains(dialect, Matter.id, [Matter.description_key], search_key(text)),
        )
    )


def _invoice_number(
    dialect: str, text: str, number: Any = Invoice.number_key, limit: int | None = None
) -> Any:
    """The invoice number holds ``text`` anywhere (``880412`` finds ``INV-00880412``):
    through the trigram index from three characters, by prefix below that (a shorter
    part of a number matches too much to be a search anyone means)."""
    key = number_key(text)
    if len(key) < MIN_TRIGRAM:
        return prefix_range(number, key)
    if number is not Invoice.number_key:
        return contains(dialect, Invoice.id, [number], key, use_index=False)
    digits = max(re.findall(r"[0-9]+", key), key=len, default="")
    if len(digits) >= MIN_TRIGRAM and digits != key:
        # Numbers share their letters ("inv-" is in every one of a million): looking them up
        # reads those long lists on both backends. The digits find few rows through the
        # index, and the whole text is checked on those.
        return and_(
            contains(dialect, Invoice.id, [number], digits),
            contains(dialect, Invoice.id, [number.op("||")("")], key, use_index=False),
        )
    return contains(dialect, Invoice.id, [number], key, limit=limit)


BROAD_MATCH_MIN = 1000
"""Never walk the sort order for fewer (estimated) matches than this."""
WALK_COST = {"sqlite": 1.0, "postgresql": 0.3}
"""Cost of walking one invoice relative to gathering one, as measured at 1,000,000 invoices:
PostgreSQL tests a walked row against a hashed list, far cheaper than its gathering joins."""
_LOOKUP_CAP = 5000
"""Matching clients, matters or invoice numbers are counted up to this many (cheap)."""


def has_lookups(where: CandidateFilter) -> bool:
    return bool(search_key(where.text) or search_key(where.client) or search_key(where.matter))


Lookup = str
"""One of the ANDed lookups of a filter: ``"text"``, ``"client"`` or ``"matter"``."""


def _table_sizes(session: Session) -> tuple[int, int, int]:
    """How many invoices, clients and matters there are, by their highest ids (a count would
    read a million rows): one statement, once per session (a page and its plan share one)."""
    sizes = session.info.get("candidate_table_sizes")
    if sizes is None:
        tables = (Invoice, Client, Matter)
        highest = (select(func.max(table.id)).scalar_subquery() for table in tables)
        invoices, clients, matters = session.execute(select(*highest)).one()
        sizes = (int(invoices or 0), int(clients or 0), int(matters or 0))
        session.info["candidate_table_sizes"] = sizes
    return sizes


def _lookup_estimates(
    session: Session, where: CandidateFilter, number_cap: int
) -> dict[str, float]:
    """How many invoices each lookup of ``where`` matches, estimated from the small tables
    (matching clients and matters times their average invoices, matching invoice numbers),
    each counted up to a cap through its index, so the estimate never reads the invoices.
    Every count is read in one statement: a search runs this while the screen is busy
    echoing the keys, and each round trip then waits for the interpreter's lock."""
    dialect = session.get_bind().dialect.name
    invoices, clients, matters = _table_sizes(session)
    per_client = invoices / max(clients, 1)
    per_matter = invoices / max(matters, 1)
    counts: list[Any] = []

    def counted(ids: Select[Any], cap: int = _LOOKUP_CAP) -> int:
        """Where the count of ``ids`` (up to ``cap``) will be among the statement's columns."""
        inner = ids.limit(cap).subquery()
        counts.append(select(func.count()).select_from(inner).scalar_subquery())
        return len(counts) - 1

    def numbers(text: str) -> int:
        # The FTS table counts its own matches up to the cap; "id IN (its matches)" would
        # list every one of them first (all million for "inv").
        found = count_matches(
            session.connection(), [Invoice.number_key], number_key(text), number_cap
        )
        if found is not None:
            counts.append(literal(found))  # counted already: a column like the others
            return len(counts) - 1
        return counted(select(Invoice.id).where(_invoice_number(dialect, text)), number_cap)

    # Each lookup's parts: (its count's column, invoices per match).
    parts: dict[str, list[tuple[int, float]]] = {}
    if search_key(where.text):
        # The largest, not the sum: a matter number starts with its client's number, so the
        # lookups mostly find the same invoices.
        parts["text"] = [
            (counted(_client_ids(dialect, where.text)), per_client),
            (counted(_matter_ids(dialect, where.text)), per_matter),
            (numbers(where.text), 1.0),
        ]
    if search_key(where.client):
        parts["client"] = [(counted(_client_ids(dialect, where.client)), per_client)]
    if search_key(where.matter):
        parts["matter"] = [(counted(_matter_ids(dialect, where.matter)), per_matter)]
    row = session.execute(select(*counts)).one() if counts else ()
    return {
        lookup: max(float(row[column] or 0) * per_match for column, per_match in lookup_parts)
        for lookup, lookup_parts in parts.items()
    }


def walk_sort_order(
    session: Session, where: CandidateFilter, rows_wanted: int, *, threshold: int | None = None
) -> bool:
    """Whether a page is found sooner by walking the sort order than by gathering every match.

    Walking reads about ``rows_wanted * invoices / matches`` rows; gathering reads ``matches``.
    They cost the same near ``sqrt(rows_wanted * invoices)``: about 7,000 matches for a page of
    50 among 1,000,000 invoices. Matches are estimated by :func:`_lookup_estimates`.

    Args:
        threshold: walk from this many estimated matches (default: the break-even above).
    """
    if not has_lookups(where):
        return False
    dialect = session.get_bind().dialect.name
    invoices = _table_sizes(session)[0]
    if not invoices:
        return False
    if threshold is None:
        factor = WALK_COST.get(dialect, 1.0)
        threshold = int(factor * max(BROAD_MATCH_MIN, math.isqrt(rows_wanted * invoices)))
    # Invoice numbers are counted as far as the threshold itself: a cap below it kept "inv-0",
    # matching every one of a million invoices, from ever counting as broad (then gathered and
    # sorted in full for one page).
    estimates = _lookup_estimates(session, where, max(_LOOKUP_CAP, threshold))
    return min(estimates.values()) >= threshold  # the lookups are ANDed: the narrowest decides


def driving_lookup(session: Session, where: CandidateFilter) -> Lookup | None:
    """The narrowest of several lookups: the one whose index should find the matches (the
    others are then checked row by row). ``None`` with fewer than two lookups.

    Left to itself SQLite drove "c00012" (506 invoices) together with the client filter "e"
    (most of a million) from the client filter, reading most of the invoices.
    """
    present = [bool(search_key(value)) for value in (where.text, where.client, where.matter)]
    if sum(present) < 2:
        return None
    estimates = _lookup_estimates(session, where, _LOOKUP_CAP)
    return min(estimates, key=lambda lookup: estimates[lookup])


def candidate_conditions(
    dialect: str,
    where: CandidateFilter,
    *,
    sort_driven: bool = False,
    driver: Lookup | None = None,
    count_cap: int | None = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions on ``Invoice`` for a filter (no joins needed).

    Args:
        sort_driven: write the client, matter and invoice-number lookups so that no index can
            serve them (``column + 0``, ``key || ''``); the planner then walks the sort order's
            index and stops after a page instead of gathering every match first.
        driver: only this lookup may use its indexes (see :func:`driving_lookup`); the
            others are written as with ``sort_driven`` and checked on the rows it finds.
        count_cap: the conditions are for a count capped at this many: an index lookup may
            stop after one more match than that.
    """
    conditions: list[ColumnElement[bool]] = []

    def columns(lookup: Lookup) -> tuple[Any, Any, Any]:
        if sort_driven or (driver is not None and driver != lookup):
            return Invoice.client_id + 0, Invoice.matter_id + 0, Invoice.number_key.op("||")("")
        return Invoice.client_id, Invoice.matter_id, Invoice.number_key

    client_id, matter_id, number = columns("text")
    indexed_text = not sort_driven and driver in (None, "text")
    text = where.text
    if search_key(text) and (not indexed_text or dialect == "sqlite"):
        # SQLite serves this OR from the three indexes at once (MULTI-INDEX OR) and stops at
        # a LIMIT; written with "+ 0" it walks the sort order instead.
        conditions.append(
            or_(
                client_id.in_(_client_ids(dialect, text)),
                matter_id.in_(_matter_ids(dialect, text)),
                _invoice_number(
                    dialect, text, number, None if count_cap is None else count_cap + 1
                ),
            )
        )
    elif search_key(text):
        # A UNION, not an OR: PostgreSQL cannot serve an OR of IN-subqueries from indexes
        # (it scanned all invoices to find that 'zzzz' matches nothing).
        matching = union(
            select(Invoice.id).where(Invoice.client_id.in_(_client_ids(dialect, text))),
            select(Invoice.id).where(Invoice.matter_id.in_(_matter_ids(dialect, text))),
            select(Invoice.id).where(_invoice_number(dialect, text)),
        )
        conditions.append(Invoice.id.in_(matching))
    if search_key(where.client):
        client_id = columns("client")[0]
        conditions.append(client_id.in_(_client_ids(dialect, where.client)))
    if search_key(where.matter):
        matter_id = columns("matter")[1]
        conditions.append(matter_id.in_(_matter_ids(dialect, where.matter)))
    # On SQLite the source and open/paid filters are written so that no index serves them:
    # those indexes are there for the sorts, and SQLite's statistics hold no skew, so it
    # took "balance = 0" (most invoices) or "source IN (...)" (a third) for selective and
    # gathered and sorted every match through them for one page.
    # PostgreSQL knows the common values and walks the index when that is better.
    sqlite = dialect == "sqlite"
    source = func.coalesce(Invoice.source, Invoice.source) if sqlite else Invoice.source
    balance = Invoice.balance_cents + 0 if sqlite else Invoice.balance_cents
    if where.sources:
        conditions.append(source.in_(sorted(where.sources)))
    if where.open_only is True:
        conditions.append(balance > 0)
    elif where.open_only is False:
        conditions.append(balance == 0)
    if where.date_from is not None:
        conditions.append(Invoice.invoice_date >= where.date_from)
    if where.date_to is not None:
        conditions.append(Invoice.invoice_date <= where.date_to)
    return conditions
