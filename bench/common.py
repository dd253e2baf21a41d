"""What the benches share: a seeded database, a bench staff account, the bare Textual app they
are measured against, and a pseudo-terminal that tells when a text first shows on screen.

The benches run as scripts (``python bench/startup.py``), so this module is imported as
``common`` from the ``bench`` folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pexpect
import pyte

FULL_PAYERS, FULL_INVOICES = 100_000, 1_000_000
QUICK_PAYERS, QUICK_INVOICES = 2_000, 10_000
STAFF_PASSWORD = "bench password 1"
COLUMNS, LINES = 80, 24

BARE_APP = """
import sys
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
"""The baseline: a Textual app with one DataTable of 20 rows (SPEC 7)."""
BARE_MARKER = "Payer 19"


def command() -> str:
    """The installed ``clientpay-tui`` console script of this Python environment."""
    return str(Path(sys.executable).with_name("clientpay-tui"))


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    return values[max(0, round(len(values) * fraction) - 1)]


def clean_environment(tmp: Path, url: str) -> dict[str, str]:
    """Our settings only, user directories in ``tmp``, a 256-colour terminal."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CLIENTPAY_", "TEXTUAL", "COLORTERM", "NO_COLOR"))
    }
    env.update(
        TERM="xterm-256color",
        XDG_DATA_HOME=str(tmp / "data"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        CLIENTPAY_DATABASE_URL=url,
    )
    return env


def payer_count(url: str) -> int:
    """Payers in the database at ``url`` (0 for a database without the schema yet)."""
    from clientpay_tui.config import load_settings
    from clientpay_tui.db import schema
    from clientpay_tui.db.engine import Database
    from clientpay_tui.services.context import command_line_actor
    from clientpay_tui.services.facade import Services

    db = Database(url)
    try:
        schema.ensure_current(db)
        services = Services(db, load_settings(database_url=url))
        count, _ = services.payers.count(command_line_actor("bench"), "", cap=10**9)
        return count
    finally:
        db.dispose()


def seed_if_empty(env: dict[str, str], payers: int, invoices: int) -> float:
    """Seed with ``clientpay-tui seed`` in a child process when the database has no payers;
    returns the seconds it took (0 when the database was seeded already)."""
    if payer_count(env["CLIENTPAY_DATABASE_URL"]):
        return 0.0
    started = time.perf_counter()
    args = ["seed", "--payers", str(payers), "--invoices", str(invoices)]
    subprocess.run([command(), *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def add_staff(env: dict[str, str]) -> str:
    """A staff account for this run, added with the command line; returns its name."""
    name = f"bench-{os.getpid()}"
    subprocess.run(
        [command(), "staff", "add", name, "--role", "staff", "--password-stdin"],
        input=STAFF_PASSWORD + "\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return name


class Pty:
    """A program in a pseudo-terminal at 80x24 whose screen is read through pyte."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        self.started = time.perf_counter()
        self.child = pexpect.spawn(args[0], args[1:], env=env, dimensions=(LINES, COLUMNS))
        # pexpect sleeps 50 ms before every write by default: timed from the write, that
        # sleep was counted as the program's latency (bench/RESULTS.md, stop 14).
        self.child.delaybeforesend = None

    @property
    def pid(self) -> int:
        return int(self.child.pid)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, pattern: str, seconds: float = 120.0) -> float:
        """Wait until the regular expression ``pattern`` matches the screen; returns the
        seconds since the program was spawned."""
        found = re.compile(pattern)
        shown = self.wait_until(
            lambda _arrived: bool(found.search(self.text())), seconds, what=repr(pattern)
        )
        return shown - self.started

    def wait_until(
        self, shows: Callable[[float], bool], seconds: float = 120.0, what: str = "it"
    ) -> float:
        """Wait until ``shows`` holds (asked now, then as :meth:`read` draws each piece of
        output); returns when the output that made it hold arrived (``time.perf_counter``)."""
        deadline = time.perf_counter() + seconds
        now = time.perf_counter()
        if shows(now):
            return now
        while True:
            arrived = self.read(0.05, shows)
            if arrived is not None:
                return arrived
            if time.perf_counter() > deadline or not self.child.isalive():
                raise TimeoutError(f"the screen never showed {what}:\n{self.text()}")

    def read(self, timeout: float, shows: Callable[[float], bool]) -> float | None:
        """Wait up to ``timeout`` seconds for output, read all that has arrived, then draw it
        piece by piece, asking ``shows`` (given when the piece was read) after each; returns
        when the piece arrived after which ``shows`` first held, or ``None``.

        Times are taken when the output is read, before pyte draws it: a terminal draws in
        microseconds, pyte in milliseconds, and that is the bench's cost, not the program's.
        All that has arrived is read before any is drawn: a frame larger than the
        pseudo-terminal's buffer (4 KiB) arrives in pieces, and drawing the first delayed
        reading the last. The screen is looked at only when output arrived: reading it every
        few milliseconds regardless took a core from the program being measured.
        """
        try:
            pieces = [(self.child.read_nonblocking(65536, timeout=timeout), time.perf_counter())]
        except pexpect.TIMEOUT:
            return None
        while True:
            try:
                data = self.child.read_nonblocking(65536, timeout=0.001)
            except pexpect.TIMEOUT:
                break
            pieces.append((data, time.perf_counter()))
        held: float | None = None
        for data, arrived in pieces:
            self.stream.feed(data)
            if held is None and shows(arrived):
                held = arrived
        return held

    def send(self, *keys: str) -> None:
        for key in keys:
            self.child.send(key)

    def peak_rss_mib(self) -> float:
        """The process's resident-memory high-water mark so far (Linux ``VmHWM``)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc")

    def reset_peak_rss(self) -> None:
        """Start a new high-water mark from the current resident memory."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def close(self) -> None:
        self.child.terminate(force=True)


PAYER_LIST = r"[\d,]+\+? payers?\b"
"""The payer list's count label: the list is on screen and accepts keys."""


def sign_in(pty: Pty, username: str) -> None:
    """Type the bench staff member's credentials into the sign-in screen."""
    pty.wait_for("Sign in to")
    pty.send(username, "\r", STAFF_PASSWORD, "\r")
