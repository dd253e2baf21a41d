"""Keys typed while a screen opens ("enter" then "l" on a payer) are held and then dispatched
to the new screen, not to the previous screen's search box or its letter keys."""

from __future__ import annotations

from textual import events
from textual.message import Message

UNHELD_KEYS = frozenset({"ctrl+q", "ctrl+c"})
"""Keys never held back while a screen opens: quitting works at any moment."""


class ReleaseKeys(Message, bubble=False):
    """Queued behind every key that arrived while a screen was opening: dispatch them now.

    Args:
        hold: the number :meth:`HeldKeys.hold` gave the opening that ended.
    """

    def __init__(self, hold: int) -> None:
        super().__init__()
        self.hold = hold


class HeldKeys:
    def __init__(self) -> None:
        self._keys: list[events.Key] | None = None
        """``None``: not holding."""
        self._holds = 0
        """How many holds began: the number of the latest."""

    def hold(self) -> int:
        """From now until :meth:`release`, :meth:`take` keeps the keys typed. Returns this
        hold's number, for :meth:`release`."""
        self._keys = self._keys or []
        self._holds += 1
        return self._holds

    def take(self, event: events.Event) -> bool:
        """Whether ``event`` was held (a key typed while holding)."""
        if (
            self._keys is not None
            and isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in UNHELD_KEYS
        ):
            self._keys.append(event)
            return True
        return False

    def release(self, hold: int) -> list[events.Key]:
        """The keys held, in order, and holding stops; nothing if a later hold began (a second
        payer asked for while the first loaded: the keys are for the one that opens last)."""
        if hold != self._holds:
            return []
        held, self._keys = self._keys or [], None
        return held
