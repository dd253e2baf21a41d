"""The terminal the app runs in: refuse to start without one, and notice when it goes away.

Without a terminal (``clientpay-tui < /dev/null``, ``ssh -T``, sftp under a ``ForceCommand``)
Textual's input thread reads end-of-file over and over and the process spins a core forever,
holding the database open. And when a terminal goes away without a SIGHUP reaching the app
(its session is not the terminal's, or the hang-up was ignored), its input reads end-of-file
the same way. Only the standard library is imported here: the app's first frame waits for it.
"""

from __future__ import annotations

import os
import select
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from clientpay_tui.errors import NoTerminal

POLL_MS = 500
"""How often the watcher looks whether it should stop (a hang-up wakes it at once)."""


def require_terminal(stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    """Refuse (:class:`NoTerminal`, one line) unless standard input and output are terminals."""
    streams = (("standard input", stdin or sys.stdin), ("standard output", stdout or sys.stdout))
    for name, stream in streams:
        try:
            ok = stream is not None and os.isatty(stream.fileno())
        except (AttributeError, OSError, ValueError):  # closed, or not backed by a descriptor
            ok = False
        if not ok:
            raise NoTerminal(
                f"the app needs a terminal and its {name} is not one; over SSH, connect with "
                "`ssh -t` (the other commands work without one: see `clientpay-tui --help`)"
            )


class HangUpWatcher:
    """Waits in a thread until the terminal on ``fd`` hangs up, then calls ``on_hang_up`` once.

    It polls for no event at all: only a hang-up or an error (which poll always reports) wakes
    it, so it never competes with the app for the keys typed.
    """

    def __init__(self, fd: int, on_hang_up: Callable[[], object]) -> None:
        self.fd = fd
        self.on_hang_up = on_hang_up
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="clientpay-hangup", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(POLL_MS / 1000 * 2)

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self.fd, 0)
        while not self._stop.is_set():
            if poller.poll(POLL_MS):  # POLLHUP, POLLERR or POLLNVAL
                if not self._stop.is_set():
                    self.on_hang_up()
                return
