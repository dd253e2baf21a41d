"""Search at scale: keystroke to updated table through the real screens, beside raw SQL; JSON.

    python bench/search.py [--payers 100000 --invoices 1000000 | --quick] [--database-url URL]

The database is seeded by ``clientpay-tui seed`` in a child process (so its memory does not
count), then the app runs headless at 80x24 signed in as a staff member. For every keystroke of
a few typical searches (a name, a surname, an email part, a client number, a miss, a first
name that sorts late: its matches lie together near the end of the name order) the
time from the key press to the table holding that search's first page is recorded from the
``PagedTable.Loaded`` message (``p50_ms``/``p95_ms``); the count of matches follows in a
second query run meanwhile (``count_*``: until the "N payers" label is right too), and the
screen is let to repaint before the next key. Also printed: the time
from start to the first rows on screen, scrolling to the last row (one page fetched), and the
peak resident memory of this process (staff passwords are hashed cheaply here: argon2's
64 MiB per sign-in is the sign-in's, not the list's; ``bench/memory.py`` measures the real
program). Targets (SPEC 7): p95 under 50 ms, under 150 MiB.

Beside each keystroke's latency, the SQL that keystroke's first-page fetch issued (recorded by a
``before_cursor_execute`` listener while ``PayerService.search`` ran for it) is executed again
on a bare DB-API cursor and fetched (median of 5): ``raw_sql_p50_ms``/``raw_sql_p95_ms``, and
``ratio_p95`` = p95 latency / p95 raw SQL (target: within 3x). What the ratio holds is the
service layer (session, ORM rows), the worker threads and Textual's message round trip.

The association search (add-association screen, 1,000,000 invoices) is measured by
``bench/association_search.py``, built with that screen; its figures sit beside these in
``bench/RESULTS.md``.

``--database-url`` must name a database the bench may add to (it seeds only an empty one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from common import (
    FULL_INVOICES,
    FULL_PAYERS,
    QUICK_INVOICES,
    QUICK_PAYERS,
    clean_environment,
    percentile,
    seed_if_empty,
)
from sqlalchemy import event
from textual.message import Message
from textual.widgets import Input

from clientpay_tui.app import ClientPayApp
from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Role
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.services import passwords
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payer_search import PayerRow
from clientpay_tui.services.payers import StatusFilter
from clientpay_tui.widgets.paged_table import PagedTable

SEARCHES = ["ada", "smith", "example.com", "c000042", "zzz", "nguyen.1", "zoe"]
TARGET_P95_MS = 50.0
TARGET_MIB = 150.0
TARGET_RATIO = 3.0


class FirstPageSql:
    """The SQL statements each search text's first-page fetch issued (the last fetch wins)."""

    def __init__(self, db: Database, services: Services) -> None:
        self.by_text: dict[str, list[tuple[str, Any]]] = {}
        self._local = threading.local()
        event.listen(db.engine, "before_cursor_execute", self._before)
        search = services.payers.search

        def recorded(
            actor: Any,
            text: str = "",
            offset: int = 0,
            limit: int = 50,
            status: StatusFilter = StatusFilter.ALL,
        ) -> list[PayerRow]:
            if offset:
                return search(actor, text, offset, limit, status)
            statements: list[tuple[str, Any]] = []
            self._local.statements = statements
            try:
                return search(actor, text, offset, limit, status)
            finally:
                self._local.statements = None
                self.by_text[text] = statements

        services.payers.search = recorded  # type: ignore[method-assign]

    def _before(self, conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements = getattr(self._local, "statements", None)
        if statements is not None and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    def raw_ms(self, db: Database, text: str, repeat: int = 5) -> float:
        """Median time to execute and fetch ``text``'s statements on a bare DB-API cursor."""
        with db.engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                for statement, parameters in self.by_text[text]:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
            cursor.close()
            connection.rollback()
        return statistics.median(times)


async def measure(services: Services, sql: FirstPageSql) -> dict[str, object]:
    loaded: list[float] = []
    arrived = asyncio.Event()

    def hook(message: Message) -> None:
        if isinstance(message, PagedTable.Loaded):
            loaded.append(time.perf_counter())
            arrived.set()

    # argon2 at production cost allocates 64 MiB per hash; that is sign-in's, not the list's.
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    username = f"bench-{os.getpid()}"
    services.staff.add(command_line_actor("bench"), username, Role.STAFF, "bench password 1")
    actor = services.staff.sign_in(username, "bench password 1")
    started = time.perf_counter()
    app = ClientPayApp(services, actor=actor, handle_sighup=False)
    latencies: list[float] = []
    per_key: list[tuple[str, int]] = []
    texts: list[str] = []
    counted: list[float] = []
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await asyncio.wait_for(arrived.wait(), 60)
        first_rows = loaded[0] - started
        screen = app.screen
        assert isinstance(screen, PayerListScreen)
        table = screen.table
        scroll_started = time.perf_counter()
        await pilot.press("end")
        while table.highlighted is None:  # its page is fetched once it is painted
            await pilot.pause(0.002)
        scroll_end = time.perf_counter() - scroll_started
        await pilot.press("home")
        for text in SEARCHES:
            await pilot.press("slash")
            for char in text:
                arrived.clear()
                before = len(loaded)
                pressed = time.perf_counter()
                await pilot.press(char)
                await asyncio.wait_for(arrived.wait(), 60)
                await table.wait_loaded()  # the count, which follows the rows
                await pilot.pause()  # let the frame paint before the next key
                latencies.append((loaded[before] - pressed) * 1000)
                counted.append((loaded[-1] - pressed) * 1000)
                texts.append(screen.query_one("#search", Input).value)
                per_key.append((texts[-1], round(latencies[-1])))
            screen.query_one("#search", Input).value = ""
            await table.wait_loaded()
            await pilot.press("escape")
        rows = table.row_count
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    raw = sorted(sql.raw_ms(services.db, text) for text in texts)
    latencies.sort()
    counted.sort()
    p95 = percentile(latencies, 0.95)
    raw_p95 = percentile(raw, 0.95)
    ratio = p95 / raw_p95 if raw_p95 else float("inf")
    return {
        "keystrokes": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(p95, 1),
        "max_ms": round(latencies[-1], 1),
        "raw_sql_p50_ms": round(statistics.median(raw), 1),
        "raw_sql_p95_ms": round(raw_p95, 1),
        "raw_sql_max_ms": round(raw[-1], 1),
        "ratio_p95": round(ratio, 2),
        "count_p50_ms": round(statistics.median(counted), 1),
        "count_p95_ms": round(percentile(counted, 0.95), 1),
        "first_rows_ms": round(first_rows * 1000, 1),
        "scroll_to_last_row_ms": round(scroll_end * 1000, 1),
        "rows_after_clearing_search": rows,
        "peak_rss_mib": round(peak, 1),
        "slowest": sorted(per_key, key=lambda item: -item[1])[:5],
        "p95_target_met": p95 < TARGET_P95_MS,
        "ratio_target_met": ratio <= TARGET_RATIO,
        "memory_target_met": peak < TARGET_MIB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=FULL_PAYERS)
    parser.add_argument("--invoices", type=int, default=FULL_INVOICES)
    parser.add_argument("--quick", action="store_true", help="2,000 payers, 10,000 invoices")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.quick:
        args.payers, args.invoices = QUICK_PAYERS, QUICK_INVOICES
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed_seconds = seed_if_empty(clean_environment(Path(tmp), url), args.payers, args.invoices)
        settings = load_settings(database_url=url)
        db = Database(url)
        schema.ensure_current(db)
        services = Services(db, settings)
        payers, _ = services.payers.count(command_line_actor("bench"), "", cap=10**9)
        result = asyncio.run(measure(services, FirstPageSql(db, services)))
        db.dispose()
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "payers": payers,
                "seed_seconds": round(seed_seconds, 1),
                **result,
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
