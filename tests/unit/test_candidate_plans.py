"""SQLite's plans for a page of candidates with many matches, given the statistics of the
1,000,000-invoice bench database: the page walks its sort order and stops after 50 rows.

PostgreSQL's plans are measured by ``bench/association_search.py`` and ``bench/query_plans.py``
(its planner needs the data itself, not only statistics, to choose as at scale).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import event

from clientpay_tui.db.models import InvoiceSource
from clientpay_tui.services import candidates
from clientpay_tui.services.candidates import CandidateFilter, CandidateSort, SortColumn


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: its planner reads the statistics these tests give it."""
    path = tmp_path / "plans.db"
    path.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def many_matches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every filter counts as broad: the page walks its sort order."""
    monkeypatch.setattr(candidates, "walk_sort_order", lambda *args, **kwargs: True)


BENCH_STATISTICS = {
    # sqlite_stat1 of the bench database (`clientpay-tui seed --payers 100000 --invoices
    # 1000000`, then ANALYZE): rows, then rows per distinct value of each index's prefix.
    ("client", "ix_client_name_key"): "20000 3",
    ("client", "sqlite_autoindex_client_1"): "20000 1",
    ("invoice", "ix_invoice_amount"): "1000000 2 1",
    ("invoice", "ix_invoice_balance"): "1000000 3 1",
    ("invoice", "ix_invoice_client"): "1000000 50 1",
    ("invoice", "ix_invoice_date"): "1000000 914 1",
    ("invoice", "ix_invoice_matter"): "1000000 11 1",
    ("invoice", "ix_invoice_source"): "1000000 333334 1",
    ("invoice", "sqlite_autoindex_invoice_1"): "1000000 1",
    ("matter", "ix_matter_description_key"): "100000 261",
    ("matter", "ix_matter_number_key"): "100000 1",
    ("matter", "sqlite_autoindex_matter_1"): "100000 5 1",
}


def _statistics_as_at_a_million(db) -> None:
    """SQLite's planner, given the statistics of the bench database (1,000,000 invoices)."""
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql(
            "DELETE FROM sqlite_stat1 WHERE tbl IN ('client', 'matter', 'invoice')"
        )
        for (table, index), stat in BENCH_STATISTICS.items():
            connection.exec_driver_sql(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", (table, index, stat)
            )
    with db.engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE sqlite_schema")  # reload the statistics


def _page_plan(services, admin, db, where: CandidateFilter, sort: CandidateSort) -> list[str]:
    """SQLite's plan of the page query that ``candidates`` runs."""
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "ORDER BY" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        services.associations.candidates(admin, where, sort)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    [(statement, parameters)] = statements
    with db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        return [row[-1] for row in rows]


@pytest.mark.parametrize("column", list(SortColumn), ids=lambda column: column.value)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize(
    "where",
    [
        CandidateFilter(text="c"),
        CandidateFilter(text="c", open_only=False),
        CandidateFilter(open_only=True),
        CandidateFilter(sources=frozenset({InvoiceSource.CONNECT})),
    ],
    ids=["broad-text", "broad-text-paid", "open", "one-source"],
)
def test_a_broad_page_walks_its_sort_order(services, admin, book, db, column, descending, where):
    """With many matches the page walks its sort order's index and stops after a page: no
    sort of every match (50 ms to 1.7 s a page at 1,000,000 invoices). Matter and description
    sort through the matter table (merged with the invoices without one); the open/paid and
    source filters never take the sorts' indexes (SQLite's statistics hold no skew: it
    gathered every paid invoice through the balance index, 0.8-1.2 s)."""
    _statistics_as_at_a_million(db)
    details = _page_plan(services, admin, db, where, CandidateSort(column, descending))
    walked = details
    if column in candidates.MATTER_SORTS:
        # Each arm is limited to the page's rows, so sorting what they return is cheap; the
        # first (the invoices with a matter, a co-routine) must walk the matter's index.
        assert details[:2] == ["MERGE (UNION ALL)", "LEFT"], details
        assert details[2].startswith("CO-ROUTINE"), details
        end = next(i for i, detail in enumerate(details) if detail.startswith("SCAN anon"))
        walked = details[3:end]
        assert any(detail.startswith("SCAN matter USING INDEX") for detail in walked), details
    assert not any("TEMP B-TREE FOR ORDER BY" in detail for detail in walked), details
    assert column == SortColumn.BALANCE or not any(
        "ix_invoice_balance" in detail for detail in details
    ), details
