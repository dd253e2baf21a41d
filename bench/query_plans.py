"""Time the service layer's searches on a large database and show the plans they get.

Usage (seed first, e.g. ``clientpay-tui seed --payers 100000 --invoices 1000000``)::

    python bench/query_plans.py sqlite:////tmp/scale.db [--repeat 5] [--plans] [--only NAME]

Every service call is timed end to end (median of ``--repeat`` runs after one warm-up). With
``--plans`` the slowest SQL statement of each call is explained (EXPLAIN QUERY PLAN on SQLite,
EXPLAIN ANALYZE on PostgreSQL). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import event, func, select, text

from clientpay_tui.config import load_settings
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Association, InvoiceSource, Payer
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.candidates import CandidateFilter
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services

BIG_PAYER_NAME = "Bench Many Invoices"


class StatementLog:
    """Records each statement's SQL, parameters and duration."""

    def __init__(self, db: Database) -> None:
        self.entries: list[tuple[float, str, Any]] = []
        self.enabled = False
        event.listen(db.engine, "before_cursor_execute", self._before)
        event.listen(db.engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if self.enabled and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
            self.entries.append((took, statement, parameters))


def explain(db: Database, statement: str, parameters: Any) -> list[str]:
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        cursor = raw.cursor()  # type: ignore[union-attr]
        if db.is_sqlite:
            cursor.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            rows = cursor.fetchall()
            depth: dict[int, int] = {0: -1}
            lines = []
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                lines.append("  " * depth[node] + detail)
            return lines
        explain_analyze = "EXPLAIN (ANALYZE, COSTS OFF, TIMING ON, SUMMARY ON) "
        cursor.execute(explain_analyze + statement, parameters)
        lines = [row[0] for row in cursor.fetchall()]
        connection.rollback()
        return lines


def ensure_big_payer(services: Services, admin: Any) -> int:
    """A payer with about 90,000 invoice associations (the lead's slow case)."""
    with services.db.read() as session:
        found = session.scalar(select(Payer.id).where(Payer.name == BIG_PAYER_NAME))
    if found is not None:
        return int(found)
    from clientpay_tui.db.models import IntegrationName
    from clientpay_tui.services.payers import PayerForm

    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    payer_id = services.payers.create(admin, PayerForm(name=BIG_PAYER_NAME)).id
    with services.db.read() as session:
        newest = session.scalar(text("SELECT max(invoice_date) FROM invoice"))
    newest = date.fromisoformat(str(newest)[:10])
    start = date.fromordinal(newest.toordinal() - 98)  # ~90k of 1M invoices over 3 years
    services.associations.create(
        admin, payer_id, Level.INVOICE, Selection(matching=CandidateFilter(date_from=start))
    )
    with services.db.read() as session:
        count = session.scalar(
            select(func.count()).select_from(Association).where(Association.payer_id == payer_id)
        )
    print(f"# created {count} invoice associations for payer {payer_id}")
    return payer_id


def cases(services: Services, admin: Any, big_payer: int) -> dict[str, Callable[[], Any]]:
    p, a = services.payers, services.associations
    connect = frozenset({InvoiceSource.CONNECT})

    def cand(**kw: Any) -> Callable[[], Any]:
        return lambda: a.candidates(admin, CandidateFilter(**kw))

    def cand_count(**kw: Any) -> Callable[[], Any]:
        return lambda: a.count_candidates(admin, CandidateFilter(**kw))

    return {
        "payers.search ''": lambda: p.search(admin, ""),
        "payers.search page 1000": lambda: p.search(admin, "", offset=50_000),
        "payers.search 'a'": lambda: p.search(admin, "a"),
        "payers.search 'lo'": lambda: p.search(admin, "lo"),
        "payers.search 'smith' (name)": lambda: p.search(admin, "smith"),
        "payers.search 'ada lo' (name)": lambda: p.search(admin, "ada lo"),
        "payers.search 'zzz' (no match)": lambda: p.search(admin, "zzz"),
        "payers.search 'example.com' (every email)": lambda: p.search(admin, "example.com"),
        "payers.search '.4242@' (email)": lambda: p.search(admin, ".4242@"),
        "payers.search 'c0012' (client number)": lambda: p.search(admin, "c0012"),
        "payers.search 'c' (every client number)": lambda: p.search(admin, "c"),
        "payers.search 'c00' (client number)": lambda: p.search(admin, "c00"),
        "payers.count 'smith'": lambda: p.count(admin, "smith"),
        "payers.count 'example.com'": lambda: p.count(admin, "example.com"),
        "candidates ''": cand(),
        "candidates 'a'": cand(text="a"),
        "candidates 'ac'": cand(text="ac"),
        "candidates 'acme' (client name)": cand(text="acme"),
        "candidates 'acme apex' (client name)": cand(text="acme apex"),
        "candidates 'c00012' (client number)": cand(text="c00012"),
        "candidates 'c001234-00' (matter number)": cand(text="c001234-00"),
        "candidates 'inv-000123' (invoice number)": cand(text="inv-000123"),
        "candidates 'lease review' (matter description)": cand(text="lease review"),
        "candidates 'payroll audit maple' (matter description)": cand(text="payroll audit maple"),
        "candidates 'acme' + connect + open": cand(text="acme", sources=connect, open_only=True),
        "candidates 'a' + connect + open": cand(text="a", sources=connect, open_only=True),
        "candidates client 'c0001' + dates": cand(
            client="c0001", date_from=date(2025, 1, 1), date_to=date(2025, 6, 30)
        ),
        "candidates 'zzzz' (no match)": cand(text="zzzz"),
        "candidates + covered for big payer": lambda: a.candidates(
            admin, CandidateFilter(text="acme"), payer_id=big_payer
        ),
        "count_candidates ''": cand_count(),
        "count_candidates 'a'": cand_count(text="a"),
        "count_candidates 'acme'": cand_count(text="acme"),
        "associations.for_payer (90k invoices)": lambda: a.for_payer(admin, big_payer),
        "Associations tab: count and first page (90k invoices)": lambda: (
            a.count_for_payer(admin, big_payer),
            len(a.for_payer(admin, big_payer, 0, 100)),
        ),
        "preview.portal_view (90k invoices)": lambda: services.preview.portal_view(
            admin, big_payer
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    db = Database(args.url)
    services = Services(db, load_settings(database_url=args.url))
    admin = command_line_actor("bench")
    big_payer = ensure_big_payer(services, admin)
    log = StatementLog(db)
    results = []
    for name, call in cases(services, admin, big_payer).items():
        if args.only and args.only not in name:
            continue
        call()  # warm-up: page cache, statement cache
        times = []
        for _ in range(args.repeat):
            log.entries.clear()
            log.enabled = True
            started = time.perf_counter()
            value = call()
            times.append((time.perf_counter() - started) * 1000)
            log.enabled = False
        rows = len(value) if isinstance(value, list) else value
        entry: dict[str, Any] = {"case": name, "median_ms": round(statistics.median(times), 1)}
        entry["result"] = rows if isinstance(rows, (int, tuple)) else str(rows)[:60]
        if args.plans and log.entries:
            took, statement, parameters = max(log.entries, key=lambda e: e[0])
            entry["slowest_statement_ms"] = round(took * 1000, 1)
            entry["plan"] = explain(db, statement, parameters)
        results.append(entry)
        print(json.dumps(entry), flush=True)
    db.dispose()


if __name__ == "__main__":
    main()
