"""When the app's full garbage collections run: what is new, small and often (at once in a
pause between keys); the whole heap only once both the staff member and the app have been
quiet for half a minute, or, in a session that never pauses, when what is frozen has doubled;
counting the frozen objects (a walk over all of them) not on every tick."""

from __future__ import annotations

import gc

import pytest

from clientpay_tui.idle_collection import (
    AWAY_SECONDS,
    LONGEST_SECONDS,
    NEVER,
    PROMOTIONS,
    QUIET_SECONDS,
    TICK_SECONDS,
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
            get_freeze_count=self.get_freeze_count,
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

    def get_freeze_count(self) -> int:
        self.calls.append("count frozen")
        return self.frozen

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
    fake.alive = 1000  # the app and its modules
    started.start()
    fake.calls.clear()
    return started


def collections(fake: FakeGc) -> list[str]:
    return [call for call in fake.calls if call != "count frozen"]


def test_start_freezes_the_app_and_takes_full_collections_stop_gives_them_back(fake, clock):
    fake.alive = 1000  # the app and its modules
    idle = IdleCollector(lambda: clock.now, lambda: False, clock, fake.api())
    idle.start()
    assert fake.thresholds == (700, 10, NEVER)
    assert fake.calls == ["freeze"]  # not collected first: that would delay the first frame
    assert fake.frozen == 1000
    idle.stop()
    assert fake.thresholds == (700, 10, 10)
    assert fake.calls[-1] == "unfreeze"  # nothing stays frozen once the app is gone
    assert fake.frozen == 0


def test_collect_now_collects_and_freezes_at_once(fake, clock):
    idle = collector(fake, clock, [clock.now], [False])
    fake.alive = 5000  # a sign-in's imported screens and services
    idle.collect_now()
    assert fake.calls == ["collect", "freeze"]
    assert fake.frozen == 5000
    assert idle.collections["new"] == 1


def test_what_is_new_is_collected_in_a_pause_or_once_promoted_often(fake, clock):
    typed = [clock.now]
    idle = collector(fake, clock, typed, [False])
    assert idle.tick() is None  # nothing promoted: nothing to collect
    fake.promoted, fake.alive = PROMOTIONS - 1, 1200
    clock.now += QUIET_SECONDS / 2
    assert idle.tick() is None  # typing, and not much new yet
    clock.now += QUIET_SECONDS / 2
    assert idle.tick() == "new"  # a pause: collected and what survived frozen
    assert collections(fake) == ["collect", "freeze"]
    assert fake.frozen == 1200
    typed[0] = clock.now
    fake.promoted = PROMOTIONS
    assert idle.tick() == "new"  # typing on, but as much as CPython would have collected


def test_counting_the_frozen_objects_is_not_done_every_tick(fake, clock):
    idle = collector(fake, clock, [clock.now], [False])
    for _ in range(int(AWAY_SECONDS / TICK_SECONDS)):
        clock.now += TICK_SECONDS
        fake.promoted = 1
        idle.tick()
    # Once to decide on a whole collection when half a minute has passed, once after it.
    assert fake.calls.count("count frozen") <= 2


def test_the_whole_heap_once_nobody_typed_and_no_work_ran_for_half_a_minute(fake, clock):
    typed = [clock.now]
    busy = [True]  # a bulk run, watched without a key
    idle = collector(fake, clock, typed, busy)
    fake.alive = 1300  # frozen will grow by more than a quarter
    for _ in range(int(2 * AWAY_SECONDS / TICK_SECONDS)):
        clock.now += TICK_SECONDS
        fake.promoted = 1
        assert idle.tick() in (None, "new")
    busy[0] = False  # the run ended
    clock.now += AWAY_SECONDS - TICK_SECONDS
    fake.promoted = 0
    assert idle.tick() is None  # the app has not been quiet for long enough yet
    clock.now += TICK_SECONDS
    assert idle.tick() == "whole"
    assert collections(fake)[-3:] == ["unfreeze", "collect", "freeze"]
    clock.now += AWAY_SECONDS
    assert idle.tick() is None  # nothing grew since: not again


def test_frozen_grown_by_less_than_a_quarter_is_left(fake, clock):
    typed = [clock.now]
    idle = collector(fake, clock, typed, [False])
    fake.promoted, fake.alive = 1, 1000
    clock.now += QUIET_SECONDS
    assert idle.tick() == "new"
    clock.now += AWAY_SECONDS
    assert idle.tick() == "whole"  # the first long pause: never collected whole yet
    typed[0] = clock.now
    fake.promoted, fake.alive = 1, 1200
    clock.now += QUIET_SECONDS
    assert idle.tick() == "new"
    clock.now += AWAY_SECONDS
    assert idle.tick() is None
    assert fake.calls.count("unfreeze") == 1


def test_a_session_that_never_pauses_collects_whole_once_frozen_doubled(fake, clock):
    typed = [clock.now]
    idle = collector(fake, clock, typed, [False])
    wholes = []
    for alive in (1500, 2500, 3100):
        kinds = []
        for _ in range(int(LONGEST_SECONDS / TICK_SECONDS)):
            clock.now += TICK_SECONDS
            typed[0] = clock.now  # a key every half second
            fake.promoted, fake.alive = PROMOTIONS, alive
            kinds.append(idle.tick())
        assert set(kinds) <= {"new", "whole"}
        wholes.append(kinds.count("whole"))
    # Never collected whole yet; then 2500 is not double the 1500 the first one left; 3100 is.
    assert wholes == [1, 0, 1]


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
        assert idle.tick() in ("new", "whole")
        assert gc.get_freeze_count() > 0
    finally:
        idle.stop()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
