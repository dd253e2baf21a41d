"""Live refresh: the idle cost of following the change feed, and how soon a change is seen.

    python bench/live_refresh.py [--seconds 30 --edits 20 | --quick] [--database-url URL]

Idle: a change feed (SQLite: polling ``PRAGMA data_version`` every 250 ms) runs on an asyncio
loop for ``--seconds`` while nothing changes; the CPU time this process used, as a percentage
of one core, is its idle cost. Latency: another engine then commits 20 payer edits at random
moments while the feed is followed (as the app does); for each, the time from its commit until
the feed reports that payer (target: well under the second the issue allows). Prints JSON.

``--database-url`` must name a throw-away database (a payer is added to it); the default is a
new SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.change_feed import MIN_INTERVAL, Changes, change_feed
from clientpay_tui.db.engine import Database
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm


async def measure(url: str, seconds: float, edits: int) -> dict[str, object]:
    writer_db, watcher_db = Database(url), Database(url)
    schema.ensure_current(writer_db)
    services = Services(writer_db, load_settings(database_url=url))
    actor = command_line_actor("bench")
    payer = services.payers.create(actor, PayerForm(name="Bench Payer", email="b@example.com"))
    try:
        async with change_feed(watcher_db) as feed:
            idle_wall, idle_cpu = time.perf_counter(), time.process_time()
            try:
                await asyncio.wait_for(feed.next(), seconds)
                idle_changes = 1
            except TimeoutError:
                idle_changes = 0
            idle_cpu = time.process_time() - idle_cpu
            idle_wall = time.perf_counter() - idle_wall
            # As in the app: the feed is followed all the time, edits come at any moment.
            seen: asyncio.Queue[tuple[float, Changes]] = asyncio.Queue()

            async def follow() -> None:
                while True:
                    changes = await feed.next()
                    seen.put_nowait((time.perf_counter(), changes))

            follower = asyncio.ensure_future(follow())
            latencies = []
            for n in range(edits):
                await asyncio.sleep(random.uniform(0.05, 0.5))
                version = services.payers.get(actor, payer.id).version
                form = PayerForm(name="Bench Payer", email="b@example.com", phone=str(n))
                await asyncio.to_thread(services.payers.update, actor, payer.id, version, form)
                committed = time.perf_counter()
                while True:
                    at, changes = await seen.get()
                    if changes.touches("payer", payer.id):
                        break
                latencies.append((at - committed) * 1000)
            follower.cancel()
    finally:
        writer_db.dispose()
        watcher_db.dispose()
    latencies.sort()
    return {
        "backend": writer_db.url.get_backend_name(),
        "poll_interval_ms": MIN_INTERVAL * 1000,
        "idle_seconds": round(idle_wall, 1),
        "idle_cpu_percent_of_one_core": round(100 * idle_cpu / idle_wall, 3),
        "idle_batches": idle_changes,
        "edits": edits,
        "seen_after_commit_ms": {
            "median": round(latencies[len(latencies) // 2], 1),
            "max": round(latencies[-1], 1),
        },
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="3 s idle, 5 edits (tests)")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.edits = 3.0, 5
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'live.db'}"
        result = asyncio.run(measure(url, args.seconds, args.edits))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
