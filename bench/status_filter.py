"""The payer list's status filter at scale: first page and count per filter; prints JSON.

    python bench/status_filter.py [--payers 100000 | --quick] [--database-url URL]
        [--without-indexes] [--repeat 7]

The database is seeded by ``clientpay-tui seed`` when it has no payers, then given logins in
every state (:mod:`login_states`: 70 % without a login, 15 % invited, 5 % invited with an
expired link, 9.5 % active, 0.2 % locked, 0.3 % whose email failed). For each filter and each
search text ("", a name, an email part) the service's first page (50 rows, what the list shows
first) and its count (capped at 10,000, the label) are timed, ``--repeat`` times after a
warm-up; p50/p95 over all of a filter's runs are printed. ``--without-indexes`` drops the
indexes of migration 0007 first (and puts them back after): the "before" figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

from common import FULL_INVOICES, FULL_PAYERS, QUICK_PAYERS, clean_environment, percentile
from common import seed_if_empty as seed
from login_states import add_login_states

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import StatusFilter

TEXTS = ["", "ada", "example.com"]
INDEXES = {
    "ix_portal_login_locked_until": "portal_login (locked_until)",
    "ix_portal_login_status": "portal_login (status, locked_until)",
    "ix_access_token_link": "access_token (login_id, purpose, used_at, revoked_at, expires_at)",
}
TARGET_MS = 50.0


def _timed(call, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    call()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure(services: Services, repeat: int) -> dict[str, object]:
    actor = command_line_actor("bench")
    report: dict[str, object] = {}
    for status in StatusFilter:
        pages: list[float] = []
        counts: list[float] = []
        found = {}
        for text in TEXTS:
            pages += _timed(partial(services.payers.search, actor, text, 0, 50, status), repeat)
            counts += _timed(partial(services.payers.count, actor, text, status=status), repeat)
            found[text or "(all)"] = services.payers.count(actor, text, status=status)[0]
        pages.sort()
        counts.sort()
        report[status.value] = {
            "page_p50_ms": round(statistics.median(pages), 1),
            "page_p95_ms": round(percentile(pages, 0.95), 1),
            "count_p50_ms": round(statistics.median(counts), 1),
            "count_p95_ms": round(percentile(counts, 0.95), 1),
            "matches": found,
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=FULL_PAYERS)
    parser.add_argument("--invoices", type=int, default=FULL_INVOICES)
    parser.add_argument("--quick", action="store_true", help="2,000 payers, no invoices")
    parser.add_argument("--database-url")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--without-indexes", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.payers, args.invoices = QUICK_PAYERS, 0
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed(clean_environment(Path(tmp), url), args.payers, args.invoices)
        logins = add_login_states(url)
        db = Database(url)
        schema.ensure_current(db)
        if args.without_indexes:
            with db.engine.begin() as connection:
                for name in INDEXES:
                    connection.exec_driver_sql(f"DROP INDEX {name}")
        try:
            services = Services(db, load_settings(database_url=url))
            result = measure(services, args.repeat)
        finally:
            if args.without_indexes:
                with db.engine.begin() as connection:
                    for name, on in INDEXES.items():
                        connection.exec_driver_sql(f"CREATE INDEX {name} ON {on}")
            db.dispose()
    worst = max(v["page_p95_ms"] for v in result.values())  # type: ignore[index]
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "logins": logins,
                "indexes_0007": not args.without_indexes,
                "filters": result,
                "worst_page_p95_ms": worst,
                "page_p95_target_met": worst < TARGET_MS,
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
