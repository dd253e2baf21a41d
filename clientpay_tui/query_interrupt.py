"""Stopping a query that nobody waits for any more, from another thread.

A search's count can run for hundreds of milliseconds; when the next keystroke makes it moot,
its thread would otherwise run it to the end, holding a connection and the GIL's attention
while the next search waits. :func:`interruptible` runs a service call with a
:class:`QueryInterrupt` in force: every ``Database.read`` it opens registers its
connection, and calling the interrupt stops their statements (SQLite's
``interrupt()``, PostgreSQL's cancel request) and keeps its later statements from starting;
the call then fails with a ``DatabaseError`` that nobody reads. Imports neither SQLAlchemy
nor a driver: widgets hold these tokens.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from clientpay_tui.errors import QueryInterrupted

T = TypeVar("T")

_current: contextvars.ContextVar[QueryInterrupt | None] = contextvars.ContextVar(
    "clientpay_query_interrupt", default=None
)


class QueryInterrupt:
    """Interrupts the reads of the calls run under it; once called, stays interrupted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: set[Any] = set()
        self.requested = False

    def __call__(self) -> None:
        with self._lock:
            self.requested = True
            for connection in self._connections:
                _interrupt(connection)

    def attach(self, dbapi_connection: Any) -> None:
        """A read began on ``dbapi_connection``."""
        with self._lock:
            self._connections.add(dbapi_connection)

    def detach(self, dbapi_connection: Any) -> None:
        with self._lock:
            self._connections.discard(dbapi_connection)


def current() -> QueryInterrupt | None:
    """The interrupt in force in this thread's call, if any."""
    return _current.get()


def check() -> None:
    """Refuse to start a statement under an interrupt already called (an idle connection
    ignores the interrupt itself)."""
    stop = _current.get()
    if stop is not None and stop.requested:
        raise QueryInterrupted("the query was stopped: nobody waits for it any more")


def interruptible(interrupt: QueryInterrupt, fn: Callable[[], T]) -> Callable[[], T]:
    """``fn`` to be run (in a worker thread) with ``interrupt`` in force."""

    def run() -> T:
        token = _current.set(interrupt)
        try:
            return fn()
        finally:
            _current.reset(token)

    return run


def _interrupt(dbapi_connection: Any) -> None:
    if hasattr(dbapi_connection, "interrupt"):  # sqlite3: safe from another thread
        dbapi_connection.interrupt()
    elif hasattr(dbapi_connection, "cancel_safe"):  # psycopg 3.2+
        dbapi_connection.cancel_safe()
    else:
        dbapi_connection.cancel()
