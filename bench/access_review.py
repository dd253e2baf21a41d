"""Access review export: seconds for every payer, with the visible-invoice figures read a
chunk of payers per query (as shipped) and, for comparison, a payer per query (as before);
prints JSON.

    python bench/access_review.py [--payers 6000 --invoices 60000 | --quick] [--database-url URL]

The database is seeded in-process (``seed``: a third of the payers hold one client
association) when it has no payers, and Connect is enabled so that the figures are read. Each
mode writes the CSV to a discarding stream; the two outputs must be equal (checked).
``--database-url`` must name a throw-away database (the seed, a setting and audit rows go in).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import clientpay_tui.services.access_review as review
from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import IntegrationName
from clientpay_tui.seeding.seed import seed
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.visible_invoices import visible_figures


class Digest(io.TextIOBase):
    """A stream that keeps only a hash of what is written."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, text: str) -> int:
        self.hash.update(text.encode())
        return len(text)


def per_payer(session: Any, payer_ids: Any, integrations: Any, *, cap: Any = None) -> Any:
    """The export before batching: :func:`visible_figures` for each payer."""
    return {p: visible_figures(session, p, integrations, cap=cap) for p in payer_ids}


def measure(url: str, payers: int, invoices: int) -> dict[str, object]:
    db = Database(url)
    schema.ensure_current(db)
    services = Services(db, load_settings(database_url=url))
    actor = command_line_actor("bench")
    seed_seconds = 0.0
    if not services.payers.count(actor, cap=1)[0]:
        started = time.perf_counter()
        seed(services.ctx, actor, payers=payers, invoices=invoices)
        seed_seconds = time.perf_counter() - started
    services.integrations.set_enabled(actor, IntegrationName.CONNECT, True)
    batched_figures = review.visible_figures_by_payer
    result: dict[str, object] = {"backend": db.url.get_backend_name()}
    digests = {}
    try:
        for mode, figures in (("per_payer", per_payer), ("batched", batched_figures)):
            review.visible_figures_by_payer = figures  # type: ignore[assignment]
            out = Digest()
            started = time.perf_counter()
            written = services.access_review.export(actor, out, "csv")  # type: ignore[arg-type]
            result[f"{mode}_seconds"] = round(time.perf_counter() - started, 2)
            digests[mode] = out.hash.hexdigest()
            result["payers"] = written
    finally:
        review.visible_figures_by_payer = batched_figures  # type: ignore[assignment]
        db.dispose()
    assert digests["per_payer"] == digests["batched"], "the two exports differ"
    result.update(
        same_output=True,
        seed_seconds=round(seed_seconds, 1),
        load_average_1m=round(os.getloadavg()[0], 2),
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=6_000)
    parser.add_argument("--invoices", type=int, default=60_000)
    parser.add_argument("--quick", action="store_true", help="600 payers, 3,000 invoices")
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    if args.quick:
        args.payers, args.invoices = 600, 3_000
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'review.db'}"
        print(json.dumps(measure(url, args.payers, args.invoices)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
