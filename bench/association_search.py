"""Add-associations search at scale: keystroke to updated table, through the real screen; JSON.

    python bench/association_search.py [--quick] [--database-url URL]

The database is seeded by ``clientpay-tui seed`` in a child process when it holds no payers
(100,000 payers and 1,000,000 invoices; ``--quick``: 2,000 and 10,000), then the app runs
headless at 80x24 as a staff member with the add-associations screen open for a payer. Keys are
pressed as a person would: searches typed letter by letter (client name, client, matter and
invoice number prefixes, matter description, a miss), then the column filters (client field,
source ``t``, open/paid ``o``, a date typed into "From", sort ``s``/``r``). For every key that
changes what the table shows, the time from the key press to the table holding the new first
page is recorded from the ``PagedTable.Loaded`` message (``p50_ms``/``p95_ms``/``max_ms``), and
until the count of matches is in too (``count_*``); the screen repaints before the next key.
Keys that change nothing (a half-typed date) are pressed but not measured.

Beside it, ``service_*``: the same filters run straight against the service (one page of 50 and
the capped count), without the UI, so the cost of the screen shows as the difference. Also
printed: opening the screen to its first rows, and ``ctrl+a`` to "N selected" (the exact count
of every match).

``--database-url`` must name a database the bench may add to (it seeds only an empty one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
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
from textual.message import Message

from clientpay_tui.app import ClientPayApp
from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Role
from clientpay_tui.screens.add_associations import AddAssociationsScreen
from clientpay_tui.screens.candidate_table import COUNT_CAP
from clientpay_tui.services import passwords
from clientpay_tui.services.candidates import CandidateFilter, CandidateSort
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.widgets.paged_table import PagedTable

SEARCHES = ["birch", "c00012", "c019999-00", "inv-0099", "contract pin", "zzq"]
"""Typed into the search box one key at a time, the box cleared after each."""
FILTER_KEYS: list[tuple[str, list[str]]] = [
    # (what, keys): "escape" moves from a field to the table, "/" from the table to the box.
    # The focus is in the search box after the searches: tab to the client field.
    ("client field", ["tab", *"eagle"]),
    ("source", ["escape", "t", "t", "t", "t"]),
    ("open/paid", ["o", "o", "o"]),
    ("date from", ["slash", "tab", "tab", "tab", *"2026-06-01"]),
    ("sort", ["escape", "s", "s", "r"]),
]


def summary(prefix: str, values: list[float]) -> dict[str, float]:
    return {
        f"{prefix}p50_ms": round(statistics.median(values), 1),
        f"{prefix}p95_ms": round(percentile(sorted(values), 0.95), 1),
        f"{prefix}max_ms": round(max(values), 1),
    }


async def measure(services: Services) -> dict[str, Any]:
    loaded: list[float] = []
    arrived = asyncio.Event()

    def hook(message: Message) -> None:
        if isinstance(message, PagedTable.Loaded):
            loaded.append(time.perf_counter())
            arrived.set()

    # argon2 at production cost allocates 64 MiB per hash; that is sign-in's, not the screen's.
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    admin = command_line_actor("bench")
    username = f"bench-{os.getpid()}"
    services.staff.add(admin, username, Role.STAFF, "bench password 1")
    actor = services.staff.sign_in(username, "bench password 1")
    payer = services.payers.create(admin, PayerForm(name=f"Bench payer {os.getpid()}"))
    app = ClientPayApp(services, actor=actor, handle_sighup=False)
    page_ms: list[float] = []
    count_ms: list[float] = []
    per_key: list[tuple[str, float]] = []
    states: list[tuple[CandidateFilter, CandidateSort]] = []
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await pilot.pause()
        assert app.session is not None
        opened = time.perf_counter()
        arrived.clear()
        app.push_screen(AddAssociationsScreen(app.session, payer.id, payer.name))
        await asyncio.wait_for(arrived.wait(), 60)
        first_rows_ms = (loaded[-1] - opened) * 1000
        shown = app.screen
        assert isinstance(shown, AddAssociationsScreen)
        screen: AddAssociationsScreen = shown
        table = screen.table
        await table.wait_loaded()

        async def press(key: str, what: str) -> None:
            before_state = (screen.where, screen.sort)
            before = len(loaded)
            arrived.clear()
            pressed = time.perf_counter()
            await pilot.press(key)
            if (screen.where, screen.sort) == before_state:
                return  # nothing to show (focus moves, a half-typed date)
            await asyncio.wait_for(arrived.wait(), 60)
            await table.wait_loaded()  # the count, which follows the rows
            await pilot.pause()  # let the frame paint before the next key
            page_ms.append((loaded[before] - pressed) * 1000)
            count_ms.append((loaded[-1] - pressed) * 1000)
            per_key.append((f"{what}: {key}", round(page_ms[-1], 1)))
            states.append((screen.where, screen.sort))

        for text in SEARCHES:
            for char in text:
                await press(char, text)
            screen.query_one("#search").value = ""  # type: ignore[attr-defined]
            await pilot.pause()
            await table.wait_loaded()
        for what, keys in FILTER_KEYS:
            for key in keys:
                await press(key, what)
        assert not screen.errors and app.screen is shown
        for field in ("#client", "#date-from"):  # select-all over every invoice: the worst case
            screen.query_one(field).value = ""  # type: ignore[attr-defined]
        await pilot.pause()
        await table.wait_loaded()
        started = time.perf_counter()
        await pilot.press("ctrl+a")
        while screen.picked.matching_count is None:
            if time.perf_counter() - started > 60:
                raise TimeoutError("select-all never counted its rows")
            await pilot.pause(0.005)
        select_all_ms = (time.perf_counter() - started) * 1000
        selected = screen.picked.matching_count

    service_page: list[float] = []
    service_count: list[float] = []
    associations = services.associations
    for where, sort in states:
        started = time.perf_counter()
        associations.candidates(actor, where, sort, 0, 50, payer.id)
        service_page.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        associations.count_candidates(actor, where, COUNT_CAP)
        service_count.append((time.perf_counter() - started) * 1000)
    return {
        "keystrokes_measured": len(page_ms),
        **summary("", page_ms),
        **summary("count_", count_ms),
        **summary("service_page_", service_page),
        **summary("service_count_", service_count),
        "first_rows_ms": round(first_rows_ms, 1),
        "select_all_count_ms": round(select_all_ms, 1),
        "select_all_selected": selected,
        "slowest": sorted(per_key, key=lambda item: -item[1])[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 payers, 10,000 invoices")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    payers, invoices = (
        (QUICK_PAYERS, QUICK_INVOICES) if args.quick else (FULL_PAYERS, FULL_INVOICES)
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        seed_seconds = seed_if_empty(clean_environment(Path(tmp), url), payers, invoices)
        settings = load_settings(database_url=url)
        db = Database(url)
        schema.ensure_current(db)
        services = Services(db, settings)
        held, _capped = services.associations.count_candidates(
            command_line_actor("bench"), CandidateFilter(), cap=10**9
        )
        result = asyncio.run(measure(services))
        db.dispose()
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "invoices": held,
                "seed_seconds": round(seed_seconds, 1),
                **result,
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
