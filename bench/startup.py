"""Cold start: process start to the first usable frame, against a bare Textual app; prints JSON.

    python bench/startup.py [--payers 100000 --invoices 1000000 | --quick] [--database-url URL]
                            [--runs 5]

Each program runs in a real pseudo-terminal at 80x24 (pexpect, screen read with pyte) and is
timed from spawning it until its first usable screen shows, the programs taking turns so that
a change in the machine's load hits both alike:

- ``bare_datatable``: a Textual app with one ``DataTable`` of 20 rows (the SPEC 7 baseline);
- ``sign_in``: ``clientpay-tui`` on the seeded database until its sign-in screen accepts keys
  (what start-up costs: imports, settings, the schema check, the first frame);
- ``payer_list``: the same, then the bench account's name and password typed at once, until
  the payer list shows its first page and count. This includes the sign-in itself (an argon2
  verification at production cost, ``sign_in_check_ms``, measured apart in this process).

Prints the medians of ``--runs`` and the ratios to the bare app. Target (SPEC 7): within 1.5x.
``--database-url`` must name a database the bench may add to: it is seeded only when it holds no
payers, and a staff account ``bench-<pid>`` is added to it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import (
    BARE_APP,
    BARE_MARKER,
    FULL_INVOICES,
    FULL_PAYERS,
    PAYER_LIST,
    QUICK_INVOICES,
    QUICK_PAYERS,
    Pty,
    add_staff,
    clean_environment,
    command,
    payer_count,
    seed_if_empty,
    sign_in,
)

TARGET_RATIO = 1.5


def timed(args: list[str], env: dict[str, str], marker: str, username: str = "") -> float:
    pty = Pty(args, env)
    try:
        if username:
            sign_in(pty, username)
        return pty.wait_for(marker)
    finally:
        pty.close()


def sign_in_check_ms() -> float:
    """One argon2 verification at the production profile (what signing in costs)."""
    from clientpay_tui.services import passwords

    hashed = passwords.hash_password("bench password 1")
    started = time.perf_counter()
    passwords.verify_password(hashed, "bench password 1")
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=FULL_PAYERS)
    parser.add_argument("--invoices", type=int, default=FULL_INVOICES)
    parser.add_argument("--quick", action="store_true", help="2,000 payers and 2 runs")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.quick:
        args.payers, args.invoices, args.runs = QUICK_PAYERS, QUICK_INVOICES, 2
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        env = clean_environment(tmp, url)
        seed_seconds = seed_if_empty(env, args.payers, args.invoices)
        username = add_staff(env)
        bare_script = tmp / "bare.py"
        bare_script.write_text(BARE_APP)
        app = [command()]
        timed(app, env, "Sign in to")  # warm the file-system cache once
        runs: dict[str, list[float]] = {"bare_datatable": [], "sign_in": [], "payer_list": []}
        for _ in range(args.runs):
            runs["bare_datatable"].append(
                timed([sys.executable, str(bare_script)], env, BARE_MARKER)
            )
            runs["sign_in"].append(timed(app, env, "Sign in to"))
            runs["payer_list"].append(timed(app, env, PAYER_LIST, username))
        payers = payer_count(url)
    medians = {name: statistics.median(times) for name, times in runs.items()}
    bare = medians["bare_datatable"]
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "payers": payers,
                "seed_seconds": round(seed_seconds, 1),
                "runs": args.runs,
                **{f"{name}_ms": round(value * 1000) for name, value in medians.items()},
                "sign_in_ratio": round(medians["sign_in"] / bare, 2),
                "payer_list_ratio": round(medians["payer_list"] / bare, 2),
                "sign_in_check_ms": round(sign_in_check_ms()),
                "target_ratio": TARGET_RATIO,
                "target_met": medians["sign_in"] / bare <= TARGET_RATIO,
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
