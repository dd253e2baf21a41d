"""Cold start: process start to the first usable frame, against a bare Textual app; prints JSON.

    python bench/cold_start.py [--runs 5]

Each program runs in a real pseudo-terminal at 80x24 (pexpect, screen read with pyte), and the
time is taken from spawning it to the moment its first screen shows: for ClientPay the sign-in
screen of ``clientpay-tui`` on a fresh database, and the payer list of ``clientpay-tui demo``
(signed in, first page of payers loaded); for the baseline, a Textual app showing one
``DataTable`` of 20 rows. Target (SPEC 7): within 1.5x the baseline. Medians of ``--runs``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect
import pyte

BARE_APP = """
from textual.app import App
from textual.widgets import DataTable

class Bare(App):
    def compose(self):
        yield DataTable()

    def on_mount(self):
        table = self.query_one(DataTable)
        table.add_columns("Name", "Email", "Login", "Last email")
        table.add_rows([(f"Payer {n}", f"p{n}@example.com", "None", "") for n in range(20)])

Bare().run()
"""


def time_to_screen(args: list[str], marker: str, env: dict[str, str]) -> float:
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    started = time.perf_counter()
    child = pexpect.spawn(args[0], args[1:], env=env, dimensions=(24, 80))
    try:
        while True:
            with contextlib.suppress(pexpect.TIMEOUT):
                stream.feed(child.read_nonblocking(65536, timeout=0.005))
            if marker in "\n".join(screen.display):
                return time.perf_counter() - started
            if time.perf_counter() - started > 60:
                raise TimeoutError(f"{marker!r} never appeared")
    finally:
        child.terminate(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    command = str(Path(sys.executable).with_name("clientpay-tui"))
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CLIENTPAY_")},
            "TERM": "xterm-256color",
            "XDG_DATA_HOME": f"{tmp}/data",
            "XDG_CONFIG_HOME": f"{tmp}/config",
            "CLIENTPAY_DATABASE_URL": f"sqlite:///{tmp}/firm.db",
        }
        subprocess.run(
            [command, "staff", "add", "bench", "--role", "staff", "--password-stdin"],
            input="bench password 1\n",
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        bare_script = Path(tmp) / "bare.py"
        bare_script.write_text(BARE_APP)
        time_to_screen([command, "demo"], "payers", env)  # first run creates the demo data
        runs: dict[str, list[float]] = {"bare_datatable": [], "sign_in": [], "demo_list": []}
        for _ in range(args.runs):
            runs["bare_datatable"].append(
                time_to_screen([sys.executable, str(bare_script)], "Payer 19", env)
            )
            runs["sign_in"].append(time_to_screen([command], "Sign in to", env))
            runs["demo_list"].append(time_to_screen([command, "demo"], "payers", env))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    bare = medians["bare_datatable"]
    print(
        json.dumps(
            {
                **{f"{name}_ms": round(value * 1000) for name, value in medians.items()},
                "sign_in_ratio": round(medians["sign_in"] / bare, 2),
                "demo_list_ratio": round(medians["demo_list"] / bare, 2),
                "target_ratio": 1.5,
                "runs": args.runs,
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
