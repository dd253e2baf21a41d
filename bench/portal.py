"""Payer portal at scale: the home page of a payer who sees 90,000 invoices, and sign-ins per
second per core; prints one JSON object.

    python bench/portal.py [--quick] [--database-url URL] [--requests N]

The database is seeded by ``clientpay-tui seed`` in a child process when it holds no payers
(100,000 payers and 1,000,000 invoices; ``--quick``: 2,000 and 10,000). A bench payer with an
email address and an active portal login is added once, associated with the newest 90,000
invoices (``--quick``: 900) one by one, the heaviest kind of association to read; the Connect
integration is turned on.

- ``home_*``: ``GET /`` through the portal's ASGI app (httpx in-process, a signed-in session:
  session check, the page's service call, the template) for the first page, ``--requests``
  times after three warm-ups (``home_cpu_ms``: this process's CPU time per request, which a
  busy machine does not inflate as it does the wall-clock figures); ``home_page_later_*`` the
  same for pages 2 to 20;
  ``service_*`` the service call alone (``PortalOverview.home``). Target: p95 under 50 ms.
- ``sign_in_*``: ``PortalAccounts.authenticate`` with the right password at production argon2
  cost (argon2-cffi's default profile), without the portal's 0.2 s response floor.
  ``sign_ins_per_core_second`` is sign-ins per CPU-second of this process (argon2 may use
  several threads for one hash), ``sign_ins_per_second_all_cores`` their rate with one thread
  per core signing in at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from common import (
    FULL_INVOICES,
    FULL_PAYERS,
    QUICK_INVOICES,
    QUICK_PAYERS,
    clean_environment,
    percentile,
    seed_if_empty,
)
from sqlalchemy import func, select

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import (
    Association,
    IntegrationName,
    Invoice,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
)
from clientpay_tui.portal import Portal
from clientpay_tui.portal.web import create_app
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.candidates import CandidateFilter
from clientpay_tui.services.context import Actor, command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm

PAYER_NAME = "Bench Portal Payer"
PAYER_EMAIL = "bench-portal@example.com"
PASSWORD = "bench portal password 7"
FULL_VISIBLE, QUICK_VISIBLE = 90_000, 900
TARGET_MS = 50.0
_TOKEN = re.compile(r"/welcome\?token=([A-Za-z0-9_-]+)")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def ensure_payer(services: Services, admin: Actor, visible: int) -> int:
    """The bench payer (created once): an active login, ``visible`` invoice associations."""
    db = services.db
    with db.read() as session:
        found = session.scalar(select(Payer.id).where(Payer.name == PAYER_NAME))
    if found is not None:
        return int(found)
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    payer_id = services.payers.create(admin, PayerForm(name=PAYER_NAME, email=PAYER_EMAIL)).id
    queued = services.access.grant(admin, payer_id)
    with db.read() as session:
        body = session.get(OutboxEmail, queued.email_id).body_text  # type: ignore[union-attr]
        newest = session.scalars(
            select(Invoice.invoice_date)
            .order_by(Invoice.invoice_date.desc())
            .offset(visible - 1)
            .limit(1)
        ).first()
    found_token = _TOKEN.search(body or "")
    assert found_token, "no welcome link in the bench payer's email"
    Portal(services, floor_seconds=0).links.accept_invitation(
        found_token.group(1), PASSWORD, PASSWORD
    )
    services.associations.create(
        admin, payer_id, Level.INVOICE, Selection(matching=CandidateFilter(date_from=newest))
    )
    return payer_id


def stats(prefix: str, values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        f"{prefix}p50_ms": round(statistics.median(ordered), 1),
        f"{prefix}p95_ms": round(percentile(ordered, 0.95), 1),
        f"{prefix}max_ms": round(ordered[-1], 1),
    }


async def measure_home(services: Services, requests: int) -> dict[str, Any]:
    app = create_app(services, floor_seconds=0)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url=services.settings.portal_url) as web:
        form = await web.get("/login")
        token = _CSRF.search(form.text)
        assert token, form.text
        signed = await web.post(
            "/login",
            data={"csrf_token": token.group(1), "email": PAYER_EMAIL, "password": PASSWORD},
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/", signed.text

        async def get(path: str) -> float:
            started = time.perf_counter()
            answer = await web.get(path)
            took = (time.perf_counter() - started) * 1000
            assert answer.status_code == 200 and "Your invoices" in answer.text, answer.text
            return took

        for _ in range(3):
            await get("/")
        started_cpu = time.process_time()
        first = [await get("/") for _ in range(requests)]
        cpu_ms = (time.process_time() - started_cpu) / requests * 1000
        later = [await get(f"/?page={2 + n % 19}") for n in range(requests)]
        shown = re.search(
            r"Invoices [\d,]+ to [\d,]+ of ([^,]+(?:,\d{3})*)", (await web.get("/")).text
        )
    return {
        **stats("home_", first),
        "home_cpu_ms": round(cpu_ms, 1),
        **stats("home_page_later_", later),
        "home_caption_of": shown.group(1) if shown else None,
    }


def measure_service(services: Services, login_id: int, requests: int) -> dict[str, Any]:
    overview = Portal(services, floor_seconds=0).overview
    overview.home(login_id)
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        home = overview.home(login_id)
        times.append((time.perf_counter() - started) * 1000)
    figures = home.page.figures
    exact = overview.home(login_id, figures_cap=None).page.figures
    return {
        **stats("service_", times),
        "visible_invoices": exact.total,
        "figures_capped": figures.capped,
    }


def measure_sign_ins(services: Services, count: int) -> dict[str, Any]:
    accounts = Portal(services, floor_seconds=0).accounts
    accounts.authenticate(PAYER_EMAIL, PASSWORD)  # warm-up (and a rehash if one is due)
    wall, cpu = [], 0.0
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.process_time()
        accounts.authenticate(PAYER_EMAIL, PASSWORD)
        wall.append((time.perf_counter() - started) * 1000)
        cpu += time.process_time() - started_cpu
    cores = os.cpu_count() or 1
    per_thread = max(2, count // cores)

    def sign_in_many() -> None:
        for _ in range(per_thread):
            accounts.authenticate(PAYER_EMAIL, PASSWORD)

    threads = [threading.Thread(target=sign_in_many) for _ in range(cores)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    together = time.perf_counter() - started
    return {
        **stats("sign_in_", wall),
        "sign_in_cpu_ms": round(cpu / count * 1000, 1),
        "sign_ins_per_core_second": round(count / cpu, 2),
        "sign_ins_per_second_all_cores": round(cores * per_thread / together, 2),
        "cores": cores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 payers, 10,000 invoices")
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=0, help="home page requests measured")
    args = parser.parse_args()
    payers, invoices = (
        (QUICK_PAYERS, QUICK_INVOICES) if args.quick else (FULL_PAYERS, FULL_INVOICES)
    )
    visible = QUICK_VISIBLE if args.quick else FULL_VISIBLE
    requests = args.requests or (20 if args.quick else 200)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed_seconds = seed_if_empty(clean_environment(Path(tmp), url), payers, invoices)
        settings = load_settings(database_url=url, portal_url="https://portal.bench")
        db = Database(url)
        schema.ensure_current(db)
        services = Services(db, settings)
        payer_id = ensure_payer(services, command_line_actor("bench"), visible)
        with db.read() as session:
            login_id = session.scalar(select(Payer.login_id).where(Payer.id == payer_id))
            status = session.scalar(select(PortalLogin.status).where(PortalLogin.id == login_id))
            in_firm = session.scalar(select(func.max(Invoice.id)))
            associations = session.scalar(
                select(func.count())
                .select_from(Association)
                .where(Association.payer_id == payer_id)
            )
        assert login_id is not None and status == LoginStatus.ACTIVE
        result = {
            **asyncio.run(measure_home(services, requests)),
            **measure_service(services, login_id, requests),
            **measure_sign_ins(services, 4 if args.quick else 20),
        }
        db.dispose()
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "invoices_in_firm": in_firm,
                "seed_seconds": round(seed_seconds, 1),
                "associations": associations,
                "requests": requests,
                **result,
                "target_ms": TARGET_MS,
                "target_met": result["home_p95_ms"] < TARGET_MS,
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
