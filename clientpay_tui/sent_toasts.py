"""At most one "email sent" toast a second: a burst of deliveries (a bulk grant of hundreds of
payers) is counted and told in one toast instead of hundreds stacked over the screen."""

from __future__ import annotations

import time
from typing import Any

from textual.app import App
from textual.timer import Timer

from clientpay_tui.screens.base import toast
from clientpay_tui.text import plural


class SentToasts:
    def __init__(self, app: App[Any], interval: float = 1.0) -> None:
        self.app = app
        self.interval = interval
        self._last = -interval
        self._held = 0
        self._timer: Timer | None = None

    def hold(self) -> bool:
        """Whether this delivery's toast waits to be counted in the next one (a burst)."""
        now = time.monotonic()
        if now - self._last >= self.interval and not self._held:
            self._last = now
            return False
        self._held += 1
        if self._timer is None:
            self._timer = self.app.set_timer(self.interval, self._flush)
        return True

    def _flush(self) -> None:
        self._timer = None
        if self._held:
            toast(self.app, f"{plural(self._held, 'more email')} sent.")
            self._held = 0
            self._last = time.monotonic()
