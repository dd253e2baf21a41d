"""Keys typed while a screen opens ("enter" then "l" on a payer) are held and then dispatched
to the new screen, not to the previous screen's search box or its letter keys."""

from __future__ import annotations

from textual import events
from textual.message import Message

UNHELD_KEYS = frozenset({"ctrl+q", "ctrl+c"})
"""Keys never held back while a screen opens: quitting works at any moment."""


class ReleaseKeys(Message, bubble=False):
    """Queued behind every key that arrived while a screen was opening: dispatch them now."""


class HeldKeys:
    def __init__(self) -> None:
        self._keys: list[events.Key] | None = None
        """``None``: not holding."""

    def hold(self) -> None:
        """From now until :meth:`release`, :meth:`take` keeps the keys typed."""
        self._keys = self._keys or []

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

    def release(self) -> list[events.Key]:
        """The keys held, in order; holding stops."""
        held, self._keys = self._keys or [], None
        return held
