"""Bulk grant through the payer list: 500 payers granted, the time it takes and the event loop's
worst stall meanwhile; prints JSON.

    python bench/bulk_grant.py [--payers 100000 | --quick] [--grant 500] [--database-url URL]

The database is seeded by ``clientpay-tui seed`` (a child process) when it has no payers. The
app runs headless at 80x24 signed in as a staff member, with its mail sender delivering to an
aiosmtpd server on loopback on the same event loop (as a staff session does; the server's
work on that loop is counted too; ``--no-mail`` leaves the sender out). The first
``--grant`` payers without a login are selected on the list (filter "No login"), ``g`` opens the
confirm dialog, and from ``y`` to the summary dialog the bulk run is timed while a ticker on the
app's loop wakes every 5 ms and records how late it woke (``worst_stall_ms``; target: never over
50 ms, SPEC 7). The sender keeps delivering after the run; the time until the last email was
accepted by the server is printed too.

``--database-url`` must name a throw-away database (logins and emails are added to it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

from argon2 import PasswordHasher
from common import FULL_INVOICES, FULL_PAYERS, QUICK_PAYERS, clean_environment, seed_if_empty
from email_throughput import CountingHandler, StallMeter

from clientpay_tui.app import ClientPayApp
from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Role
from clientpay_tui.mail.capture import LoopbackSmtpServer
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.screens.bulk_flow import BulkSummaryScreen
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.screens.picked import Picked
from clientpay_tui.services import passwords
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import StatusFilter

TARGET_STALL_MS = 50.0


class StallLog(StallMeter):
    """:class:`StallMeter` that also keeps when each stall over 20 ms happened."""

    def __init__(self) -> None:
        super().__init__()
        self.stalls: list[tuple[float, float]] = []

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = start = loop.time()
        while True:
            await asyncio.sleep(self.interval)
            now = loop.time()
            late = now - last - self.interval
            self.worst = max(self.worst, late)
            if late > 0.02:
                self.stalls.append((round(now - start, 2), round(late * 1000, 1)))
            self.ticks += 1
            last = now


async def until(predicate, seconds: float = 600.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + seconds
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out waiting for {predicate}")
        await asyncio.sleep(0.005)


async def measure(services: Services, grant: int, mail: bool) -> dict[str, object]:
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    username = f"bench-{os.getpid()}"
    services.staff.add(command_line_actor("bench"), username, Role.STAFF, "bench password 1")
    actor = services.staff.sign_in(username, "bench password 1")
    handler = CountingHandler()
    async with LoopbackSmtpServer(handler) as smtp:
        settings = services.settings.model_copy(
            update={"smtp_security": "none", **smtp.settings_overrides()}
        )
        mailer = SmtpSender(services.db, settings) if mail else None
        app = ClientPayApp(services, actor=actor, handle_sighup=False, mailer=mailer)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(lambda: isinstance(app.screen, PayerListScreen))
            screen = app.screen
            assert isinstance(screen, PayerListScreen)
            screen.set_filter(StatusFilter.NO_LOGIN)
            await screen.table.wait_loaded()
            rows = services.payers.search(actor, "", 0, grant, StatusFilter.NO_LOGIN)
            screen.picked = Picked(ids=frozenset(row.id for row in rows))
            screen.show_selected()
            received_before = handler.saved
            await pilot.press("g")
            await until(lambda: isinstance(app.screen, ConfirmScreen))
            meter = StallLog()
            meter.start()
            started = time.perf_counter()
            await pilot.press("y")
            await until(lambda: isinstance(app.screen, BulkSummaryScreen))
            seconds = time.perf_counter() - started
            result = app.screen.result  # type: ignore[attr-defined]
            if mail:
                await until(lambda: handler.saved - received_before >= result.emailed, 120)
            delivered = time.perf_counter() - started
            await meter.stop()
    return {
        "mail_sender": mail,
        "selected": len(rows),
        "granted": result.emailed,
        "skipped": len(result.skipped),
        "run_seconds": round(seconds, 2),
        "per_payer_ms": round(seconds * 1000 / max(result.emailed, 1), 1),
        "all_delivered_seconds": round(delivered, 2),
        "worst_stall_ms": round(meter.worst * 1000, 1),
        "ticks": meter.ticks,
        "stalls_over_20ms": len(meter.stalls),
        "worst_stalls_at_s_ms": sorted(meter.stalls, key=lambda s: -s[1])[:8],
        "stall_target_met": meter.worst * 1000 < TARGET_STALL_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=FULL_PAYERS)
    parser.add_argument("--invoices", type=int, default=FULL_INVOICES)
    parser.add_argument("--quick", action="store_true", help="2,000 payers, no invoices")
    parser.add_argument("--grant", type=int, default=500)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--no-mail", action="store_true", help="no mail sender in the app: the run alone"
    )
    args = parser.parse_args()
    if args.quick:
        args.payers, args.invoices = QUICK_PAYERS, 0
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed_if_empty(clean_environment(Path(tmp), url), args.payers, args.invoices)
        db = Database(url)
        schema.ensure_current(db)
        services = Services(db, load_settings(database_url=url))
        payers, _ = services.payers.count(command_line_actor("bench"), "", cap=10**9)
        result = asyncio.run(measure(services, args.grant, not args.no_mail))
        db.dispose()
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "payers": payers,
                **result,
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
