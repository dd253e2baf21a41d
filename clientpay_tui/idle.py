"""Idle sign-out: how long since the staff member last pressed a key, and what to tell them.

No Textual here: the app feeds :meth:`IdleWatch.touch` from its input events and asks
:meth:`IdleWatch.expired` from one cheap interval timer, so a keystroke costs one clock read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

CHECK_SECONDS = 15.0
"""How often the app looks at the idle time (at most): sign-out comes this much late at worst."""


class IdleWatch:
    """Time since the last key press or mouse event on a monotonic clock.

    Args:
        minutes: sign out after this many idle minutes (0: never).
        clock: seconds on a monotonic clock (tests pass one they move by hand).
    """

    def __init__(self, minutes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.minutes = minutes
        self.clock = clock
        self.last_input = clock()

    def touch(self) -> None:
        """The staff member did something: start counting again."""
        self.last_input = self.clock()

    def expired(self) -> bool:
        return self.minutes > 0 and self.clock() - self.last_input >= self.minutes * 60

    @property
    def check_seconds(self) -> float:
        """How often to look: a tenth of the limit, at most :data:`CHECK_SECONDS`."""
        return min(CHECK_SECONDS, self.minutes * 6.0)


def sign_out_notice(minutes: int, discarded: Sequence[str]) -> str:
    """The sign-in screen's line after an idle sign-out: why, what was kept, what was not.

    Args:
        discarded: what had unsaved edits (payer names), in screen order.
    """
    unit = "minute" if minutes == 1 else "minutes"
    line = f"Signed out after {minutes} {unit} without a key press. Everything saved is kept"
    if not discarded:
        return f"{line}."
    return f"{line}; unsaved changes to {', '.join(discarded)} were discarded."
