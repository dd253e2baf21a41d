"""Every way a test waits, in one place: for a condition, with a deadline that fails the test.

A test waits for what it expects to happen, never for a fixed time. The one exception is a check
that something did *not* happen (a key that must do nothing, a late result that must be
dropped): ``settle_before_checking_nothing_happened`` gives the app a moment first, and says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from textual.message import Message
from textual.notifications import Notification, Notify
from textual.pilot import Pilot
from textual.screen import Screen

from clientpay_tui.widgets.textual_compat import screen_lines

STEP = 0.02


def screen_text(app: Any) -> str:
    """What the terminal shows now, as plain text (one line per row)."""
    return "\n".join(screen_lines(app))


async def until(pilot: Pilot[Any], predicate: Callable[[], object], seconds: float = 10.0) -> None:
    """Let the app run until ``predicate()`` holds (workers run SQL in threads); fail after
    ``seconds``, showing the screen."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {seconds} s waiting for {predicate}; the screen shows:\n"
                f"{screen_text(pilot.app)}"
            )
        await pilot.pause(STEP)
    await pilot.pause()


async def until_idle(
    pilot: Pilot[Any],
    seconds: float = 30.0,
    quiet: float = 0.1,
    ignore_groups: tuple[str, ...] = ("mailer", "change-feed"),
) -> None:
    """Wait until the app has been quiet for ``quiet`` seconds: no worker running (but the
    long-running ``ignore_groups``) and the same screen on top (Textual delays a screen switch
    by 50 ms, and a key just pressed may not have started its worker yet). Fail after
    ``seconds``."""
    app = pilot.app
    deadline = time.monotonic() + seconds
    quiet_since: float | None = None
    screen = app.screen
    while True:
        busy = [w for w in app.workers if _running_in_view(w, ignore_groups)]
        now = time.monotonic()
        if busy or app.screen is not screen:
            quiet_since, screen = None, app.screen
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet:
            return
        if now > deadline:
            raise AssertionError(
                f"the app was not quiet for {quiet} s within {seconds} s; running now: {busy}"
            )
        await pilot.pause(STEP)


def _running_in_view(worker: Any, ignore_groups: tuple[str, ...]) -> bool:
    """A running worker of the app or of the top screen (one of a screen below waits for the
    dialog on top, as ``push_screen_wait`` does)."""
    if worker.is_finished or worker.group in ignore_groups:
        return False
    node = worker.node
    app = node.app
    if node is app:
        return True
    screen = node if isinstance(node, Screen) else node.screen
    return screen is app.screen


async def until_async(predicate: Callable[[], object], seconds: float = 10.0) -> None:
    """Wait on the running loop (no app) until ``predicate()`` holds; fail after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {predicate}")
        await asyncio.sleep(0.01)


def until_sync(predicate: Callable[[], object], seconds: float = 10.0, what: str = "") -> None:
    """Block this thread until ``predicate()`` holds (another thread or process makes it so);
    fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what or predicate}")
        time.sleep(0.02)


async def settle_before_checking_nothing_happened(pilot: Pilot[Any], seconds: float = 0.2) -> None:
    """Give the app ``seconds`` to do what it must *not* do (open a dialog, show a stale row),
    before the test checks that it did not. Never a wait for something to happen."""
    await pilot.pause(seconds)


class ToastLog:
    """Every toast an app showed, from its ``Notify`` messages (``run_test(message_hook=…)``).

    Unlike the app's own list, toasts stay here after they time out.
    """

    def __init__(self) -> None:
        self.notifications: list[Notification] = []

    def hook(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.notifications.append(message.notification)

    @property
    def messages(self) -> list[str]:
        return [notification.message for notification in self.notifications]
