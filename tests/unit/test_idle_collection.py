"""When the app's full garbage collections run: in pauses between keys, never while someone
types or a query is in flight, the whole heap when the staff member is away, and at least every
minute however busy the app is."""

from __future__ import annotations

import gc

import pytest

from clientpay_tui.idle_collection import (
    AWAY_SECONDS,
    LONGEST_SECONDS,
    NEVER,
    QUIET_SECONDS,
    CollectorApi,
    IdleCollector,
)


class FakeGc:
    """Records what the collector asks of :mod:`gc`; ``promoted`` is the generation-2 count
    (young collections since the last full one)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.thresholds = (700, 10, 10)
        self.promoted = 0
        self.frozen = 0
        self.alive = 0
        """Objects a collection would leave (and a freeze then freeze)."""

    def api(self) -> CollectorApi:
        return CollectorApi(
            collect=self.collect,
            freeze=self.freeze,
            unfreeze=self.unfreeze,
            get_count=lambda: (0, 0, self.promoted),
            get_freeze_count=lambda: self.frozen,
            get_threshold=lambda: self.thresholds,
            set_threshold=self.set_threshold,
        )

    def collect(self) -> int:
        self.calls.append("collect")
        self.promoted = 0
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")
        self.frozen = self.alive

    def unfreeze(self) -> None:
        self.calls.append("unfreeze")
        self.frozen = 0

    def set_threshold(self, *values: int) -> None:
        self.thresholds = (values[0], values[1], values[2])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake() -> FakeGc:
    return FakeGc()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def collector(fake: FakeGc, clock: Clock, last_input: list[float], busy: list[bool]):
    started = IdleCollector(lambda: last_input[0], lambda: busy[0], clock, fake.api())
    started.start()
    return started


def test_start_takes_full_collections_from_cpython_and_stop_gives_them_back(fake, clock):
    idle = collector(fake, clock, [clock.now], [False])
    assert fake.thresholds == (700, 10, NEVER)
    idle.stop()
    assert fake.thresholds == (700, 10, 10)
    assert fake.calls == ["unfreeze"]  # nothing stays frozen once the app is gone


def test_a_pause_in_typing_collects_what_is_new_and_freezes_what_survives(fake, clock):
    typed = [clock.now]
    idle = collector(fake, clock, typed, [False])
    fake.promoted, fake.alive = 3, 5000
    clock.now += QUIET_SECONDS / 2
    assert idle.tick() is None  # still typing
    clock.now += QUIET_SECONDS / 2
    assert idle.tick() == "quiet"
    assert fake.calls == ["collect", "freeze"]
    assert fake.frozen == 5000
    clock.now += QUIET_SECONDS
    assert idle.tick() is None  # nothing new since: no collection for nothing


def test_no_collection_while_a_query_is_in_flight(fake, clock):
    busy = [True]
    idle = collector(fake, clock, [clock.now], busy)
    fake.promoted = 1
    clock.now += QUIET_SECONDS * 5
    assert idle.tick() is None
    busy[0] = False
    assert idle.tick() == "quiet"


def test_away_the_whole_heap_is_collected_once_frozen_has_grown_by_a_quarter(fake, clock):
    typed = [clock.now]
    idle = collector(fake, clock, typed, [False])
    fake.promoted, fake.alive = 1, 1000
    clock.now += QUIET_SECONDS
    assert idle.tick() == "quiet"
    clock.now += AWAY_SECONDS
    assert idle.tick() == "whole"
    assert fake.calls[-3:] == ["unfreeze", "collect", "freeze"]
    clock.now += AWAY_SECONDS
    assert idle.tick() is None  # nothing grew: once per pause, not every half second
    # Back at work: frozen grows by less than a quarter, then by more.
    typed[0] = clock.now
    fake.promoted, fake.alive = 1, 1200
    clock.now += QUIET_SECONDS
    assert idle.tick() == "quiet"
    clock.now += AWAY_SECONDS
    assert idle.tick() is None
    typed[0] = clock.now
    fake.promoted, fake.alive = 1, 1300
    clock.now += QUIET_SECONDS
    assert idle.tick() == "quiet"
    clock.now += AWAY_SECONDS
    assert idle.tick() == "whole"
    assert idle.collections == {"quiet": 3, "whole": 2, "overdue": 0}


def test_a_session_that_never_pauses_still_collects_every_minute(fake, clock):
    typed = [clock.now]
    busy = [True]
    idle = collector(fake, clock, typed, busy)
    fake.promoted, fake.alive = 1, 1000
    for _ in range(int(LONGEST_SECONDS) - 1):
        clock.now += 1
        typed[0] = clock.now  # a key every second
        assert idle.tick() is None
    clock.now += 1
    assert idle.tick() == "overdue"  # nothing frozen yet: what is new is everything
    steps = [(1000, "whole"), (1500, "overdue"), (2500, "overdue"), (2500, "whole")]
    for alive, kind in steps:  # whole once frozen has doubled since the last whole one
        fake.promoted, fake.alive = 1, alive
        clock.now += LONGEST_SECONDS
        typed[0] = clock.now
        assert idle.tick() == kind, alive
    assert fake.calls[-3:] == ["unfreeze", "collect", "freeze"]


def test_with_the_real_collector_a_pause_freezes_and_stop_unfreezes():
    before = gc.get_threshold()
    clock = Clock()
    idle = IdleCollector(lambda: clock.now - AWAY_SECONDS * 2, lambda: False, clock)
    idle.start()
    try:
        assert gc.get_threshold()[2] == NEVER
        kept: list[list[object]] = []
        while gc.get_count()[2] == 0:  # until a young collection has promoted something
            kept.append([])
        assert idle.tick() in ("quiet", "whole")
        assert gc.get_freeze_count() > 0
    finally:
        idle.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
