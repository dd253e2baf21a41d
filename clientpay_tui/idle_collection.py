"""The app's full garbage collections: small and often, and the whole heap while nobody types.

A full (generation 2) collection of CPython's cycle collector scans every container object the
process holds. Signed in, the app holds 150,000 to 200,000 of them (modules, widgets, styles,
pages of rows), so a full collection took 110 to 180 ms; CPython starts one when enough
allocations have added up, which is while someone types (a name typed in one burst showed its
rows that much late) or while a bulk run grants access (a stall of 1 s). Here, while the app
runs, full collections are not left to CPython:

- every :data:`TICK_SECONDS`, once young collections have promoted objects
  :data:`PROMOTIONS` times (CPython's own trigger), or at once after :data:`QUIET_SECONDS`
  without a key or mouse event, the objects promoted since the last collection are collected
  and what survives is frozen (:func:`gc.freeze`): out of every later collection's scan, so
  each scans only what is new, a few milliseconds however big the app has grown (what was
  alive at start is frozen at once; for a sign-in's imports see
  :meth:`IdleCollector.collect_now`);
- after :data:`AWAY_SECONDS` without input and without database work in flight (a bulk run
  being watched is not a pause), once what is frozen has grown by a quarter
  (CPython's rule for its full collections), everything is unfrozen and collected at once, so
  that cycles that died after they were frozen (a closed screen's widgets) are reclaimed; in a
  session whose keys never pause that long, once it has doubled and :data:`LONGEST_SECONDS`
  have passed (between two database calls).

Young collections (generations 0 and 1, a few milliseconds) run as CPython schedules them.
Nothing here knows about Textual: the app calls :meth:`IdleCollector.tick` from a timer.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

QUIET_SECONDS = 1.0
"""No input for this long: a pause in typing, time to collect whatever is new."""
PROMOTIONS = 10
"""Young collections that promoted objects before what is new is collected anyway."""
AWAY_SECONDS = 30.0
"""No input for this long: the staff member is reading or away, time for a whole one."""
LONGEST_SECONDS = 60.0
"""A session that never pauses collects the whole heap at most this often."""
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
        self._last_whole = clock()
        self._next_size_check = clock()
        self._last_busy = clock()
        """When database work was last seen in flight: a whole collection waits until both
        the staff member and the app have been quiet (a bulk run watched for a minute)."""
        self._frozen_after_whole = 0
        """How many objects the last whole collection left frozen."""
        self.collections = {"new": 0, "whole": 0}
        """How many of each kind ran (tests and benchmarks)."""

    def start(self) -> None:
        """Take full collections from CPython (given back by :meth:`stop`) and freeze what is
        alive now, the app and the modules it was started with, without collecting first:
        that would delay the first frame (and scan a test process's whole heap per app)."""
        if self._thresholds is None:
            self._thresholds = self.api.get_threshold()
            young, middle, _full = self._thresholds
            self.api.set_threshold(young, middle, NEVER)
            self.api.freeze()
            self._last_whole = self.clock()

    def collect_now(self) -> None:
        """Collect what is new and freeze what survives, now: at a moment the staff member
        waits anyway (a sign-in's freshly imported screens and services, ~100,000 objects:
        70 to 100 ms that would otherwise come at the next tick, on the payer list)."""
        if self._thresholds is not None:
            self._collect("new")

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
        busy = self.busy()
        if busy:
            self._last_busy = now
        quiet = now - self.last_input()
        promoted = self.api.get_count()[2]  # young collections that promoted, since the last
        kind = None
        if now >= self._next_size_check:
            # Counting the frozen objects walks all of them (~10 ms): not every tick.
            if min(quiet, now - self._last_busy) >= AWAY_SECONDS:
                self._next_size_check = now + AWAY_SECONDS
                if self.api.get_freeze_count() > self._frozen_after_whole * 5 // 4:
                    kind = "whole"
            elif promoted and now - self._last_whole >= LONGEST_SECONDS and not busy:
                self._next_size_check = now + LONGEST_SECONDS
                if self.api.get_freeze_count() > self._frozen_after_whole * 2:
                    kind = "whole"
        if kind is None and (promoted >= PROMOTIONS or (promoted and quiet >= QUIET_SECONDS)):
            kind = "new"
        if kind is not None:
            self._collect(kind)
        return kind

    def _collect(self, kind: str) -> None:
        """``new``: collect what is not frozen; ``whole``: everything. Then freeze what is left."""
        if kind == "whole":
            self.api.unfreeze()
        self.api.collect()
        self.api.freeze()
        if kind == "whole":
            self._frozen_after_whole = self.api.get_freeze_count()
            self._last_whole = self.clock()
        self.collections[kind] += 1
