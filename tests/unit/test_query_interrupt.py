"""A query nobody waits for any more is stopped from another thread (SQLite's interrupt,
PostgreSQL's cancel request), on a real database; the connection serves the next call."""

from __future__ import annotations

import functools
import threading
import time

import pytest
from sqlalchemy import text

from clientpay_tui.db.engine import Database
from clientpay_tui.errors import DatabaseError
from clientpay_tui.query_interrupt import QueryInterrupt, interruptible
from tests.conftest import SlowQuery, run_slow_query


def run_in_thread(fn) -> tuple[threading.Thread, dict[str, object]]:
    outcome: dict[str, object] = {}

    def target() -> None:
        started = time.perf_counter()
        try:
            outcome["result"] = fn()
        except Exception as error:  # the outcome is what is under test
            outcome["error"] = error
        outcome["seconds"] = time.perf_counter() - started

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_an_interrupted_read_stops_and_the_next_read_works(db: Database) -> None:
    stop = QueryInterrupt()
    query = SlowQuery(db)
    thread, outcome = run_in_thread(interruptible(stop, query))
    query.wait_running()
    assert thread.is_alive()
    stop()
    thread.join(5)
    assert not thread.is_alive(), "the query ran on after the interrupt"
    assert isinstance(outcome.get("error"), DatabaseError), outcome
    assert outcome["seconds"] < 3
    with db.read() as session:  # the pool's connection is usable again
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_an_interrupt_touches_only_the_reads_run_under_it(db: Database) -> None:
    stop = QueryInterrupt()
    stop()  # requested before the call: its first read stops at once
    thread, outcome = run_in_thread(interruptible(stop, functools.partial(run_slow_query, db)))
    thread.join(5)
    assert isinstance(outcome.get("error"), DatabaseError), outcome
    # A read outside the interrupt, meanwhile and after, is not affected.
    with db.read() as session:
        assert session.execute(text("SELECT 2")).scalar() == 2


@pytest.mark.parametrize("calls", [1, 20])
def test_interrupting_after_the_call_is_harmless(db: Database, calls: int) -> None:
    stops = []
    for _ in range(calls):
        stop = QueryInterrupt()
        stops.append(stop)

        def read() -> object:
            with db.read() as session:
                return session.execute(text("SELECT 3")).scalar()

        assert interruptible(stop, read)() == 3
    for stop in stops:
        stop()  # the connections went back to the pool: nothing is interrupted
    with db.read() as session:
        assert session.execute(text("SELECT 4")).scalar() == 4
