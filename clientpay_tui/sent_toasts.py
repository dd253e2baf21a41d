"""At most one "email sent" toast a second: a burst of deliveries (a bulk grant of hundreds of
payers) is counted and told in one toast instead of hundreds stacked over the screen."""

from __future__ import annotations

import time
from typing import Any

from textual.app import App
from textual.screen import ModalScreen
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
        if now - self._last >= self.interval and not self._held and not self._dialog_open():
            self._last = now
            return False
        self._held += 1
        if self._timer is None:
            self._timer = self.app.set_timer(self.interval, self._flush)
        return True

    def _dialog_open(self) -> bool:
        # A toast would cover the dialog's text (at 80 columns a dialog is as wide as the
        # screen): the count waits until it closes.
        return isinstance(self.app.screen, ModalScreen)

    def _flush(self) -> None:
        self._timer = None
        if self._held and self._dialog_open():
            self._timer = self.app.set_timer(self.interval, self._flush)
        elif self._held:
            toast(self.app, f"{plural(self._held, 'more email')} sent.")
            self._held = 0
            self._last = time.monotonic()
