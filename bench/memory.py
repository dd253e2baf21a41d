"""Peak resident memory of ``clientpay-tui`` at scale, beside the bare Textual app; prints JSON.

    python bench/memory.py [--payers 100000 --invoices 1000000 | --quick] [--database-url URL]

Both programs run in a real pseudo-terminal at 80x24 and their resident-memory high-water mark
(``VmHWM`` in ``/proc/PID/status``, Linux) is read before they are stopped:

- ``bare_mib``: a Textual app with one ``DataTable`` of 20 rows, once shown;
- ``sign_in_screen_mib``: ``clientpay-tui`` on the seeded database, sign-in screen shown;
- ``signed_in_mib``: after signing in, payer list shown. Verifying the password with argon2 at
  the production profile allocates 64 MiB for a moment, so this is the sign-in's peak;
- ``working_mib``: the high-water mark is then reset (``clear_refs``) and the list is used:
  scrolled to its last row and back, searched for a name, an email part, a client number and a
  miss, and one payer's details screen opened (all its tabs load) and closed; the peak of that
  is what the list and details cost at this size;
- ``peak_mib``: the largest of these (the whole session).

Target (SPEC 7): under 150 MiB. ``--database-url`` must name a database the bench may add to.
"""

from __future__ import annotations

import argparse
import json
import os
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

TARGET_MIB = 150.0
SEARCHES = ["smith", "example.com", "c0001", "zzz"]
ESCAPE, UP_TO_START, DOWN_TO_END = "\x1b", "\x1b[H", "\x1b[F"


def settle(pty: Pty, seconds: float) -> None:
    """Let the program work (and paint) for a while, reading its output meanwhile."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pty.wait_for("", 1)
        time.sleep(0.02)


def bare(tmp: Path, env: dict[str, str]) -> float:
    script = tmp / "bare.py"
    script.write_text(BARE_APP)
    pty = Pty([sys.executable, str(script)], env)
    try:
        pty.wait_for(BARE_MARKER)
        settle(pty, 0.5)
        return pty.peak_rss_mib()
    finally:
        pty.close()


def app(env: dict[str, str], username: str, pause: float) -> dict[str, float]:
    pty = Pty([command()], env)
    try:
        pty.wait_for("Sign in to")
        settle(pty, pause)
        figures = {"sign_in_screen_mib": pty.peak_rss_mib()}
        sign_in(pty, username)
        pty.wait_for(PAYER_LIST)
        settle(pty, pause)
        figures["signed_in_mib"] = pty.peak_rss_mib()
        pty.reset_peak_rss()
        pty.send(DOWN_TO_END)
        settle(pty, pause)
        pty.send(UP_TO_START)
        settle(pty, pause)
        for text in SEARCHES:
            pty.send("/", text)
            pty.wait_for(text)
            settle(pty, pause)
            pty.send(ESCAPE)  # leaves the search box, the text stays
            settle(pty, pause / 2)
        pty.send("/", "\x15", "a")  # ctrl+u empties the box; then a broad search
        settle(pty, pause)
        pty.send("\r")  # opens the first payer found
        pty.wait_for("Portal preview")
        settle(pty, pause * 2)
        pty.send(ESCAPE)
        pty.wait_for(PAYER_LIST)
        settle(pty, pause)
        figures["working_mib"] = pty.peak_rss_mib()
        return figures
    finally:
        pty.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payers", type=int, default=FULL_PAYERS)
    parser.add_argument("--invoices", type=int, default=FULL_INVOICES)
    parser.add_argument("--quick", action="store_true", help="2,000 payers, shorter pauses")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    if args.quick:
        args.payers, args.invoices = QUICK_PAYERS, QUICK_INVOICES
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        env = clean_environment(tmp, url)
        seed_if_empty(env, args.payers, args.invoices)
        username = add_staff(env)
        bare_mib = bare(tmp, env)
        figures = app(env, username, 0.3 if args.quick else 1.0)
        payers = payer_count(url)
    peak = max(figures.values())
    print(
        json.dumps(
            {
                "backend": url.split(":", 1)[0].split("+")[0],
                "payers": payers,
                "bare_mib": round(bare_mib, 1),
                **{name: round(value, 1) for name, value in figures.items()},
                "peak_mib": round(peak, 1),
                "peak_ratio": round(peak / bare_mib, 2),
                "target_mib": TARGET_MIB,
                "target_met": peak < TARGET_MIB,
                "working_target_met": figures["working_mib"] < TARGET_MIB,
                "load_average": round(os.getloadavg()[0], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
