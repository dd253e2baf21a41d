"""Full garbage collections while nobody is typing.

A full (generation 2) collection of CPython's cycle collector scans every container object the
process holds. Signed in, the app holds 150,000 to 200,000 of them (modules, widgets, styles,
pages of rows) and a full collection takes 110 to 180 ms; CPython starts one when enough
allocations have added up, which is while someone types, so a name typed in one burst showed
its rows that much late. Here, while the app runs, full collections are not left to CPython:

- after :data:`QUIET_SECONDS` without a key or mouse event, and no database work in flight,
  what was allocated since the last collection is collected and what survives it is frozen
  (:func:`gc.freeze`): out of every later collection's scan, so each one costs only what is new;
- after :data:`AWAY_SECONDS` without input, once what is frozen has grown by a quarter since
  (CPython's own rule for full collections), everything is unfrozen and collected at once:
  cycles that died after they were frozen, such as a closed screen's widgets, are reclaimed;
- at least every :data:`LONGEST_SECONDS` however busy the app is, and everything once what is
  frozen has doubled, so that memory stays bounded in a session that never pauses.

Young collections (generations 0 and 1, a few milliseconds) run as CPython schedules them.
Nothing here knows about Textual: the app calls :meth:`IdleCollector.tick` from a timer.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

QUIET_SECONDS = 1.0
"""No input for this long: a pause in typing, time for a short collection."""
AWAY_SECONDS = 30.0
"""No input for this long: the staff member is reading or away, time for a whole one."""
LONGEST_SECONDS = 60.0
"""Never longer than this without a collection."""
TICK_SECONDS = 0.5
"""How often the app calls :meth:`IdleCollector.tick`."""
NEVER = 2**31 - 1
"""A generation-2 threshold CPython never reaches: no automatic full collections."""


@dataclass
class CollectorApi:
    """The parts of :mod:`gc` the collector uses (tests pass a recording fake)."""

    collect: Callable[[], object] = gc.collect
    freeze: Callable[[], None] = gc.freeze
    unfreeze: Callable[[], None] = gc.unfreeze
    get_count: Callable[[], tuple[int, int, int]] = gc.get_count
    get_freeze_count: Callable[[], int] = gc.get_freeze_count
    get_threshold: Callable[[], tuple[int, int, int]] = gc.get_threshold
    set_threshold: Callable[[int, int, int], None] = gc.set_threshold


class IdleCollector:
    """Decides when the app's full garbage collections happen (see the module's text).

    Args:
        last_input: when the last key or mouse event came, on ``clock``.
        busy: database work is in flight (a collection would stall its result).
    """

    def __init__(
        self,
        last_input: Callable[[], float],
        busy: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
        api: CollectorApi | None = None,
    ) -> None:
        self.last_input = last_input
        self.busy = busy
        self.clock = clock
        self.api = api or CollectorApi()
        self._thresholds: tuple[int, int, int] | None = None
        self._last_collection = clock()
        self._frozen_after_whole = 0
        """How many objects the last whole collection left frozen."""
        self.collections = {"quiet": 0, "whole": 0, "overdue": 0}
        """How many of each kind ran (tests and benchmarks)."""

    @property
    def running(self) -> bool:
        return self._thresholds is not None

    def start(self) -> None:
        """Take full collections from CPython (the thresholds are restored by :meth:`stop`)."""
        if self._thresholds is None:
            self._thresholds = self.api.get_threshold()
            young, middle, _full = self._thresholds
            self.api.set_threshold(young, middle, NEVER)
            self._last_collection = self.clock()

    def stop(self) -> None:
        """Give full collections back to CPython, with nothing left frozen."""
        if self._thresholds is not None:
            self.api.set_threshold(*self._thresholds)
            self._thresholds = None
            self.api.unfreeze()

    def tick(self) -> str | None:
        """Collect if now is the time; returns which kind ran (``None``: none)."""
        if self._thresholds is None:
            return None
        now = self.clock()
        quiet = now - self.last_input()
        frozen = self.api.get_freeze_count()
        new = self.api.get_count()[2] > 0  # something outlived a young collection since
        kind = None
        if not self.busy():
            if quiet >= AWAY_SECONDS and frozen > self._frozen_after_whole * 5 // 4:
                kind = "whole"
            elif quiet >= QUIET_SECONDS and new:
                kind = "quiet"
        if kind is None and new and now - self._last_collection >= LONGEST_SECONDS:
            kind = "whole" if frozen > self._frozen_after_whole * 2 else "overdue"
        if kind is None:
            return None
        if kind == "whole":
            self.api.unfreeze()
        self.api.collect()
        self.api.freeze()
        if kind == "whole":
            self._frozen_after_whole = self.api.get_freeze_count()
        self._last_collection = self.clock()
        self.collections[kind] += 1
        return kind
