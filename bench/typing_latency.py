"""Search as a user feels it: a whole name typed in one burst until its row shows, in a real
terminal, against a bare Textual Input echoing the same burst; prints JSON.

    python bench/typing_latency.py [--quick] [--database-url URL] [--names 15] [--tmux]

Each program runs in a pseudo-terminal at 80x24 (pexpect; the screen is read with pyte, as a
terminal would draw it). A burst is the whole text written at once, as a fast typist or a
paste delivers it; it is timed from the write until the screen shows:

- ``bare_echo``: a Textual app with one focused ``Input``: the burst echoed in the field
  (SPEC 7's baseline);
- ``payer_search``: ``clientpay-tui`` signed in, the payer list's search box: every visible
  row of the table holds the typed name (the list has narrowed to it);
- ``association_search``: the add-associations screen of a payer: the highlighted invoice's
  line under the table names the typed client (its row is on screen and highlighted).

The clock starts when the burst is written (``bench/common.py`` turns off pexpect's own 50 ms
sleep before each write) and stops when the output that makes the screen show it is read,
before pyte draws it (``Pty.read``: a terminal draws in microseconds, pyte in milliseconds).
The bare app runs at Textual's defaults (60 frames a second); ``clientpay-tui`` sets
``TEXTUAL_FPS=120`` for itself.

With ``--tmux`` both programs run inside tmux (status line off), itself in the pseudo-terminal,
as issue 15 measured them ("end to end in a real terminal (tmux …)") and as many staff work
over SSH: every figure then includes tmux's own relaying of keys and screen updates.

Between bursts the field is emptied (``ctrl+u``) and the screen let settle until the
unfiltered list is back. Names are real ones from the database (payers' and clients'),
picked at random with a fixed seed. Targets (SPEC 7 / issue 15 item 10): each search's median
within 2x the bare echo's median, and no burst over 150 ms.

``--database-url`` must name a database the bench may add to: it is seeded only when it holds
no payers, a staff account ``bench-<pid>`` is added, and the Connect integration is enabled.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import (
    FULL_INVOICES,
    FULL_PAYERS,
    PAYER_LIST,
    QUICK_INVOICES,
    QUICK_PAYERS,
    Pty,
    add_staff,
    clean_environment,
    command,
    percentile,
    seed_if_empty,
    sign_in,
)

TARGET_RATIO = 2.0
TARGET_MAX_MS = 150.0
TABLE_TOP = 4
"""Screen rows above this are the header and the search bar (where the typed text echoes)."""

BARE_INPUT = """
from textual.app import App
from textual.widgets import Input

class Bare(App):
    def compose(self):
        yield Input(placeholder="type here")

Bare().run()
"""

Condition = Callable[[list[str]], bool]


def wait_until(pty: Pty, condition: Condition, seconds: float = 30.0) -> None:
    """Until ``condition`` holds for the screen's lines."""
    pty.wait_until(lambda _arrived: condition(pty.screen.display), seconds)


def settle(pty: Pty, quiet: float = 0.3, seconds: float = 30.0) -> None:
    """Until nothing has been drawn for ``quiet`` seconds (a bench's pause, not a test's)."""
    deadline = time.perf_counter() + seconds
    last = [time.perf_counter()]

    def drawn(arrived: float) -> bool:
        last[0] = arrived
        return False

    while time.perf_counter() - last[0] < quiet and time.perf_counter() < deadline:
        pty.read(0.02, drawn)


def burst(pty: Pty, text: str, condition: Condition, echoes: list[float] | None = None) -> float:
    """Milliseconds from writing ``text`` at once until the output arrives that makes
    ``condition`` hold; with ``echoes``, the milliseconds until the text itself showed (the
    field's echo) are appended to it (:meth:`Pty.read` times and draws the output)."""
    settle(pty)
    echo: list[float] = []

    def shows(arrived: float) -> bool:
        lines = pty.screen.display
        if not echo and any(text in line for line in lines[:TABLE_TOP]):
            echo.append((arrived - started) * 1000)
        return condition(lines)

    started = time.perf_counter()
    pty.child.send(text)
    shown = (pty.wait_until(shows, 30.0, what=repr(text)) - started) * 1000
    if echoes is not None:
        echoes.append(echo[0] if echo else shown)
    return shown


def echoed(text: str) -> Condition:
    return lambda lines: any(text in line for line in lines)


def narrowed_to(name: str) -> Condition:
    """Every row of the payer table on screen holds ``name`` (and there is one)."""

    def check(lines: list[str]) -> bool:
        rows = [line for line in lines[TABLE_TOP + 1 : -1] if line.strip()]
        return bool(rows) and all(line.lstrip(" ✓").startswith(name) for line in rows)

    return check


def detail_names(name: str) -> Condition:
    """The line under the add-associations table (the highlighted invoice) names ``name``."""
    return lambda lines: any(name in line for line in lines[-4:-1])


def unless(condition: Condition) -> Condition:
    return lambda lines: not condition(lines)


def figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(percentile(ordered, 0.95), 1),
        "max_ms": round(ordered[-1], 1),
    }


def sample_names(url: str, count: int, seed: int = 7) -> tuple[list[str], list[str]]:
    """``count`` payer names and client names from the database, picked at random."""
    from sqlalchemy import create_engine, func, select

    from clientpay_tui.db.models import Client, Payer

    engine = create_engine(url)
    rng = random.Random(seed)
    try:
        with engine.connect() as connection:
            picked = []
            for table in (Payer, Client):
                top = int(connection.scalar(select(func.max(table.id))) or 0)
                ids = rng.sample(range(1, top + 1), min(count * 3, top))
                names = connection.scalars(select(table.name).where(table.id.in_(ids))).all()
                # Only names that are all printable ASCII letters and spaces: typed as keys.
                usable = [n for n in names if n.replace(" ", "").isalpha() and n.isascii()]
                picked.append(usable[:count])
    finally:
        engine.dispose()
    return picked[0], picked[1]


TMUX_CONFIG = "set -g status off\nset -g default-terminal tmux-256color\n"


class Terminal:
    """Where the programs run: the pseudo-terminal itself, or tmux inside it."""

    def __init__(self, tmp: Path, tmux: bool) -> None:
        self.tmp = tmp
        self.socket = str(tmp / "tmux.socket") if tmux else None  # gone with ``tmp``
        self.config = tmp / "tmux.conf"
        if tmux:
            self.config.write_text(TMUX_CONFIG)

    def start(self, args: list[str], env: dict[str, str]) -> Pty:
        if self.socket is None:
            return Pty(args, env)
        tmux = ["tmux", "-S", self.socket, "-f", str(self.config), "new-session", "-x", "80"]
        return Pty([*tmux, "-y", "24", shlex.join(args)], env)

    def stop(self, pty: Pty) -> None:
        pty.close()
        if self.socket is not None:
            subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


def bare_echo(terminal: Terminal, env: dict[str, str], texts: list[str]) -> list[float]:
    script = terminal.tmp / "bare_input.py"
    script.write_text(BARE_INPUT)
    pty = terminal.start([sys.executable, str(script)], env)
    try:
        pty.wait_for("type here")
        times = []
        for text in texts:
            times.append(burst(pty, text, echoed(text)))
            pty.child.send("\x15")  # ctrl+u
            wait_until(pty, echoed("type here"))
        return times
    finally:
        terminal.stop(pty)


def app_searches(
    terminal: Terminal,
    env: dict[str, str],
    username: str,
    payers: list[str],
    clients: list[str],
    echoes: dict[str, list[float]],
) -> tuple[list[float], list[float]]:
    pty = terminal.start([command()], env)
    try:
        sign_in(pty, username)
        pty.wait_for(PAYER_LIST)
        settle(pty, 1.0)
        pty.send("/")
        payer_times = []
        for name in payers:
            payer_times.append(burst(pty, name, narrowed_to(name), echoes["payer_search"]))
            pty.child.send("\x15")
            wait_until(pty, unless(narrowed_to(name)))
        # Into a payer (the first row), then add associations: the search box has the focus.
        pty.child.send("\r")
        pty.wait_for("Payer Information")
        settle(pty, 1.0)
        pty.send("a")
        pty.wait_for(r"invoices? match")
        # The search box's cursor blinks (a redraw every half second): never a second quiet.
        settle(pty, 1.0, seconds=3.0)
        client_times = []
        for name in clients:
            client_times.append(burst(pty, name, detail_names(name), echoes["association_search"]))
            pty.child.send("\x15")
            wait_until(pty, unless(detail_names(name)))
        return payer_times, client_times
    finally:
        terminal.stop(pty)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url")
    parser.add_argument("--names", type=int, default=15)
    parser.add_argument("--tmux", action="store_true", help="run both programs inside tmux")
    args = parser.parse_args()
    quick = (QUICK_PAYERS, QUICK_INVOICES)
    payers, invoices = quick if args.quick else (FULL_PAYERS, FULL_INVOICES)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = args.database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
        env = clean_environment(tmp, url)
        seconds = seed_if_empty(env, payers, invoices)
        username = add_staff(env)
        enable = [command(), "integration", "enable", "connect"]
        subprocess.run(enable, env=env, check=True, capture_output=True)
        payer_names, client_names = sample_names(url, args.names)
        terminal = Terminal(tmp, args.tmux)
        bare = bare_echo(terminal, env, payer_names + client_names)
        echoes: dict[str, list[float]] = {"payer_search": [], "association_search": []}
        payer_times, client_times = app_searches(
            terminal, env, username, payer_names, client_names, echoes
        )
    bare_median = statistics.median(bare)
    result: dict[str, object] = {
        "backend": url.partition(":")[0].partition("+")[0],
        "terminal": "tmux" if args.tmux else "pty",
        "payers": payers,
        "invoices": invoices,
        "seed_seconds": round(seconds, 1),
        "bursts": len(payer_names) + len(client_names),
        "bare_echo": figures(bare),
    }
    for name, times in (("payer_search", payer_times), ("association_search", client_times)):
        stats = figures(times)
        ratio = round(stats["p50_ms"] / bare_median, 2)
        result[name] = {
            **stats,
            "ratio_p50": ratio,
            "target_met": ratio <= TARGET_RATIO and stats["max_ms"] <= TARGET_MAX_MS,
            "all_ms": [round(t) for t in times],
            "field_echo": figures(echoes[name]),
        }
    result["load_average"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
