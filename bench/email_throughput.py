"""Email throughput: queue welcome emails, deliver them to a loopback SMTP server, print JSON.

    python bench/email_throughput.py [--count 1000 | --quick] [--database-url URL]

Payers are created and granted access through the real services (each grant queues its welcome
email in the outbox, as in the app); then :class:`SmtpSender` delivers the queue with aiosmtplib
to an aiosmtpd server on 127.0.0.1 on the same event loop: one that counts what arrives, or with
``--capture`` the demo's :class:`CaptureServer`, which also writes each message to a file.
A ticker task on that loop wakes every 5 ms and records how late it woke: the largest lateness
is the longest the loop was blocked while sending, i.e. what a Textual UI on that loop would
feel. Targets: 1,000 emails in under 5 s, no stall over 50 ms. CPU time per email (client,
server and database together, all in this process) and the load average are printed too,
since wall-clock figures on a shared machine depend on what else runs.

``--database-url`` must name a throw-away database (payers and emails are added to it); the
default is a new SQLite file in a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from aiosmtpd.smtp import Envelope

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailStatus, OutboxEmail
from clientpay_tui.mail.capture import CaptureServer, LoopbackSmtpServer
from clientpay_tui.mail.delivery import Outcome
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm

TICK_SECONDS = 0.005
TARGET_SECONDS = 5.0
TARGET_STALL_MS = 50.0


def queue_welcome_emails(services: Services, count: int) -> None:
    """Create ``count`` payers and grant each login access (one welcome email each)."""
    actor = command_line_actor("bench")
    for n in range(count):
        payer = services.payers.create(
            actor, PayerForm(name=f"Bench Payer {n:05d}", email=f"payer{n:05d}@bench.example")
        )
        services.access.grant(actor, payer.id)


class StallMeter:
    """A task that wakes every few milliseconds and keeps the worst lateness."""

    def __init__(self, interval: float = TICK_SECONDS) -> None:
        self.interval = interval
        self.worst = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(self.interval)
            now = loop.time()
            self.worst = max(self.worst, now - last - self.interval)
            self.ticks += 1
            last = now

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class CountingHandler:
    """Accepts every message and counts it (and each Message-ID, to catch duplicates)."""

    def __init__(self) -> None:
        self.saved = 0
        self.message_ids: set[bytes] = set()

    async def handle_DATA(self, _server: object, _session: object, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        start = content.find(b"Message-ID: ")
        self.message_ids.add(content[start : content.find(b"\r\n", start)])
        self.saved += 1
        return "250 OK"


async def deliver(
    services: Services, folder: Path, count: int, capture_files: bool
) -> dict[str, object]:
    server = CaptureServer(folder) if capture_files else LoopbackSmtpServer(CountingHandler())
    async with server as capture:
        settings = services.settings.model_copy(update=capture.settings_overrides())
        sender = SmtpSender(services.db, settings, chores=services.reminders.queue_due)
        meter = StallMeter()
        meter.start()
        started, cpu_started = time.perf_counter(), time.process_time()
        results = await sender.deliver_due()
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
        await meter.stop()
        received = capture.handler.saved
        distinct = len(capture.handler.message_ids) if not capture_files else None
    sent = sum(1 for result in results if result.outcome is Outcome.SENT)
    with services.db.read() as session:
        in_db = session.query(OutboxEmail).filter_by(status=EmailStatus.SENT).count()
    return {
        "emails": count,
        "sent": sent,
        "received_by_server": received,
        "distinct_message_ids": distinct,
        "server": "capture (.eml files)" if capture_files else "aiosmtpd, counting",
        "sent_in_database": in_db,
        "seconds": round(seconds, 3),
        "messages_per_second": round(sent / seconds, 1) if seconds else None,
        "cpu_ms_per_email": round(cpu_seconds * 1000 / count, 2),
        "max_loop_stall_ms": round(meter.worst * 1000, 1),
        "ticker_interval_ms": TICK_SECONDS * 1000,
        "ticks": meter.ticks,
        "meets_targets": bool(
            sent == count
            and (count < 1000 or seconds < TARGET_SECONDS)
            and meter.worst * 1000 < TARGET_STALL_MS
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="emails to queue (1000)")
    parser.add_argument("--quick", action="store_true", help="50 emails, for a smoke test")
    parser.add_argument("--database-url", help="a throw-away database (default: temp SQLite)")
    parser.add_argument(
        "--capture",
        action="store_true",
        help="use the demo's capture server, which also writes each message to a file",
    )
    args = parser.parse_args(argv)
    count = 50 if args.quick else args.count

    with tempfile.TemporaryDirectory(prefix="clientpay-bench-") as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = load_settings(database_url=url, portal_url="https://portal.bench.example")
        db = Database(url)
        try:
            schema.ensure_current(db)
            services = Services(db, settings)
            queued_at = time.perf_counter()
            queue_welcome_emails(services, count)
            queue_seconds = time.perf_counter() - queued_at
            report = asyncio.run(deliver(services, Path(tmp) / "mail", count, args.capture))
        finally:
            db.dispose()
    report = {
        "benchmark": "email_throughput",
        "backend": db.url.get_backend_name(),
        **report,
        "queue_seconds": round(queue_seconds, 3),
        "python": platform.python_version(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report))
    return 0 if report["sent"] == count else 1


if __name__ == "__main__":
    sys.exit(main())
