"""Ending the app cleanly when its terminal goes away (a dropped SSH connection): on SIGHUP,
and when the terminal's input hangs up without one."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import Any

from clientpay_tui.mail.delivery import Mailer
from clientpay_tui.mailing_app import MailingApp
from clientpay_tui.terminal import HangUpWatcher


class HangUpApp(MailingApp):
    """Args:
    handle_sighup: end the app cleanly when the terminal (an SSH session) goes away.
    mailer, idle_clock, idle_check_seconds: see :class:`MailingApp`.
    """

    def __init__(
        self,
        mailer: Mailer | None,
        *,
        handle_sighup: bool = True,
        idle_clock: Callable[[], float] = time.monotonic,
        idle_check_seconds: float | None = None,
    ) -> None:
        super().__init__(mailer, idle_clock=idle_clock, idle_check_seconds=idle_check_seconds)
        self.handle_sighup = handle_sighup
        self._previous_sighup: Any = signal.SIG_DFL
        self._hang_up_watcher: HangUpWatcher | None = None
        self._terminal_is_gone = False

    def watch_hang_up(self) -> None:
        """From mount on (with ``handle_sighup``)."""
        if self.handle_sighup:
            # A plain handler, not loop.add_signal_handler: it must run before Textual's
            # SIGCONT handler, which the kernel triggers together with SIGHUP (see _hang_up).
            self._previous_sighup = signal.signal(signal.SIGHUP, self._hang_up)
            self._watch_terminal()

    def on_unmount(self) -> None:
        if self.handle_sighup:
            signal.signal(signal.SIGHUP, self._previous_sighup)
        if self._hang_up_watcher is not None:
            self._hang_up_watcher.stop()

    def _watch_terminal(self) -> None:
        """End the app when its terminal's input hangs up, SIGHUP or not (Textual would
        otherwise read end-of-file in a loop forever)."""
        stdin = sys.__stdin__
        if self.is_headless or stdin is None or not stdin.isatty():
            return
        loop = asyncio.get_running_loop()
        self._hang_up_watcher = HangUpWatcher(
            stdin.fileno(), lambda: loop.call_soon_threadsafe(self._terminal_gone)
        )
        self._hang_up_watcher.start()

    def _hang_up(self, _signum: int, _frame: object) -> None:
        """SIGHUP: the terminal went away (a dropped SSH connection)."""
        self._terminal_gone()

    def _terminal_gone(self) -> None:
        """The terminal went away (a dropped SSH connection): end cleanly, now.

        A hang-up brings SIGCONT too, and Textual's SIGCONT handler would re-enter
        application mode on the dead terminal and block on its output queue; pending Python
        signal handlers run in signal-number order, so ignoring SIGCONT here comes first.
        Output then goes to /dev/null so that restoring the terminal cannot block or fail.
        There is nobody left to ask about unsaved edits.
        """
        if self._terminal_is_gone:
            return
        self._terminal_is_gone = True
        signal.signal(signal.SIGCONT, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        asyncio.get_running_loop().call_soon_threadsafe(self.exit_after_mail, 129)
