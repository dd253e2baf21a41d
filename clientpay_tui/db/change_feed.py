"""What other sessions, the portal and the mail worker changed, as it happens.

``async with change_feed(db) as feed: changes = await feed.next()`` waits for the next batch
of changes committed by anyone (this process's other connections included). Batches are
coalesced: a burst of changes — a bulk import, a mail run — arrives as one :class:`Changes`
at most every :data:`MIN_INTERVAL` seconds, and one statement touching many rows as
"everything of that kind".

PostgreSQL pushes: a dedicated psycopg connection ``LISTEN``\\ s to the channel the triggers
notify. SQLite polls: ``PRAGMA data_version`` on a dedicated connection changes only when
another connection committed, so an idle poll reads no table; then the new rows of
``change_log`` say what changed. See :mod:`clientpay_tui.db.change_triggers`.

Failures (the server restarts, the file is briefly unreadable) never end the feed: it retries
with backoff and, once back, reports everything changed (what happened meanwhile is unknown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from clientpay_tui.db.change_triggers import CHANGE_LOG, CHANNEL
from clientpay_tui.db.engine import Database
from clientpay_tui.errors import DatabaseError

log = logging.getLogger(__name__)

MIN_INTERVAL = 0.25
"""Seconds between two batches (SQLite: between two polls)."""
GATHER = 0.05
"""PostgreSQL: how long to gather notifications after the first of a burst."""
MAX_LOG_ROWS = 2000
"""SQLite: a reader further behind than this reloads everything instead of reading them."""
MAX_IDS = 1000
"""More ids of one kind in a batch than this count as every row of that kind."""
RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass(frozen=True)
class Changes:
    """One batch: ids changed per kind (``payer``, ``login``, ``association``, ``outbox``)."""

    ids: dict[str, frozenset[int]] = field(default_factory=dict)
    every: frozenset[str] = frozenset()
    """Kinds where any row may have changed (a statement touched too many to list)."""
    everything: bool = False
    """Anything may have changed (the feed reconnected, or fell too far behind)."""

    def __bool__(self) -> bool:
        return self.everything or bool(self.every) or any(self.ids.values())

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(kind for kind, ids in self.ids.items() if ids) | self.every

    def touches_kind(self, *kinds: str) -> bool:
        """Whether any row of these kinds may have changed."""
        return self.everything or bool(self.kinds & set(kinds))

    def touches(self, kind: str, ref: int | None) -> bool:
        """Whether row ``ref`` of ``kind`` may have changed."""
        if self.everything or kind in self.every:
            return True
        return ref is not None and ref in self.ids.get(kind, frozenset())

    def touches_payer(self, payer_id: int, login_id: int | None) -> bool:
        """Whether anything a payer's details show may have changed."""
        return (
            self.touches("payer", payer_id)
            or self.touches("association", payer_id)
            or self.touches("outbox", payer_id)
            or (login_id is not None and self.touches("login", login_id))
        )


class _Gathered:
    """Changes collected since the last batch."""

    def __init__(self) -> None:
        self.ids: dict[str, set[int]] = {}
        self.every: set[str] = set()
        self.everything = False
        self.any = False

    def add(self, kind: str, ref: int | None) -> None:
        self.any = True
        ids = self.ids.setdefault(kind, set())
        if ref is not None and kind not in self.every:
            ids.add(ref)
            self._cap(kind, ids)

    def _cap(self, kind: str, ids: set[int]) -> None:
        if len(ids) > MAX_IDS:  # a burst: "every payer" is cheaper to act on
            self.every.add(kind)
            ids.clear()

    def add_payload(self, payload: str) -> None:
        """``kind:1,2,3``, ``kind:*`` (every row of the kind) or ``kind:`` (none by id)."""
        kind, _, refs = payload.partition(":")
        self.any = True
        if refs == "*":
            self.every.add(kind)
            return
        ids = self.ids.setdefault(kind, set())
        if kind in self.every:
            return
        for ref in refs.split(","):
            if ref.isdigit():
                ids.add(int(ref))
        self._cap(kind, ids)

    def freeze(self) -> Changes:
        return Changes(
            {kind: frozenset(ids) for kind, ids in self.ids.items()},
            frozenset(self.every),
            self.everything,
        )


class ChangeFeed:
    """The base of both feeds: an async context manager whose :meth:`next` waits for a
    batch."""

    async def __aenter__(self) -> ChangeFeed:
        try:
            await self.open()
        except Exception as error:
            await self.close()
            detail = " ".join(str(error).split()) or type(error).__name__
            raise DatabaseError(f"live refresh is off: {detail}") from error
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def next(self) -> Changes:
        raise NotImplementedError


def change_feed(db: Database, *, interval: float = MIN_INTERVAL) -> ChangeFeed:
    """The feed for ``db``'s backend."""
    if db.is_sqlite:
        return SqliteChangeFeed(db, interval=interval)
    return PostgresChangeFeed(db, interval=interval)


class SqliteChangeFeed(ChangeFeed):
    """Polls a dedicated connection every ``interval`` seconds (in a thread)."""

    def __init__(self, db: Database, *, interval: float = MIN_INTERVAL) -> None:
        self.db = db
        self.interval = interval
        self._connection: Any = None
        self._version: int | None = None
        self._last_seq = 0
        self._failures = 0

    async def open(self) -> None:
        await asyncio.to_thread(self._connect)

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            await asyncio.to_thread(connection.close)

    def _connect(self) -> None:
        # A connection of its own, held: data_version is per connection.
        self._connection = self.db.engine.raw_connection()
        self._version = self._data_version()
        self._last_seq = self._scalar(f"SELECT coalesce(max(seq), 0) FROM {CHANGE_LOG}")

    def _scalar(self, sql: str) -> int:
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql)
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def _data_version(self) -> int:
        return self._scalar("PRAGMA data_version")

    async def next(self) -> Changes:
        while True:
            await asyncio.sleep(self.interval)
            try:
                changes = await asyncio.to_thread(self.poll)
            except Exception as error:  # the file may be briefly unusable: retry, never end
                changes = await self._recover(error)
            if changes:
                return changes

    def poll(self) -> Changes:
        """What other connections committed since the last poll (blocking)."""
        if self._connection is None:
            self._connect()
            return Changes(everything=True)
        version = self._data_version()
        if version == self._version:
            return Changes()
        self._version = version
        cursor = self._connection.cursor()
        try:
            cursor.execute(
                f"SELECT seq, kind, ref FROM {CHANGE_LOG} WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._last_seq, MAX_LOG_ROWS + 1),
            )
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if not rows:
            return Changes()  # a commit to tables nobody watches
        gathered = _Gathered()
        if rows[0][0] != self._last_seq + 1 or len(rows) > MAX_LOG_ROWS:
            # Pruned past us, or a bulk change: reading it all would cost more than a reload.
            gathered.everything = True
            self._last_seq = self._scalar(f"SELECT coalesce(max(seq), 0) FROM {CHANGE_LOG}")
        else:
            for _seq, kind, ref in rows:
                gathered.add(kind, ref)
            self._last_seq = rows[-1][0]
        return gathered.freeze()

    async def _recover(self, error: Exception) -> Changes:
        delay = RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)]
        self._failures += 1
        log.warning("change feed: %s; retrying in %s s", error, delay)
        await self.close()
        await asyncio.sleep(delay)
        return Changes()  # the next poll reconnects and reports everything


class PostgresChangeFeed(ChangeFeed):
    """``LISTEN`` on a dedicated psycopg async connection (on the caller's event loop)."""

    def __init__(self, db: Database, *, interval: float = MIN_INTERVAL) -> None:
        self.conninfo = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.interval = interval
        self._connection: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._gathered = _Gathered()
        self._arrived = asyncio.Event()
        self._last_batch = 0.0
        self._failures = 0

    async def open(self) -> None:
        await self._connect()

    async def _connect(self) -> None:
        import psycopg  # only on PostgreSQL

        connection = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await connection.execute(f"LISTEN {CHANNEL}")
        self._connection = connection
        self._listener = asyncio.ensure_future(self._listen(connection))
        self._failures = 0

    async def _listen(self, connection: Any) -> None:
        async for notify in connection.notifies():
            self._gathered.add_payload(notify.payload)
            self._arrived.set()

    async def close(self) -> None:
        listener, self._listener = self._listener, None
        connection, self._connection = self._connection, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(BaseException):
                await listener
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def next(self) -> Changes:
        while True:
            listener = self._listener
            if listener is None or listener.done():
                await self._reconnect(listener)
                self._gathered.everything = True
                self._gathered.any = True
                self._arrived.set()
            arrived = asyncio.ensure_future(self._arrived.wait())
            assert self._listener is not None
            await asyncio.wait({arrived, self._listener}, return_when=asyncio.FIRST_COMPLETED)
            arrived.cancel()
            if not self._arrived.is_set():
                continue  # the connection ended: reconnect
            # Let the rest of a burst arrive, and keep batches MIN_INTERVAL apart.
            since = time.monotonic() - self._last_batch
            await asyncio.sleep(max(GATHER, self.interval - since))
            gathered, self._gathered = self._gathered, _Gathered()
            self._arrived.clear()
            self._last_batch = time.monotonic()
            if gathered.any:
                return gathered.freeze()

    async def _reconnect(self, ended: asyncio.Task[None] | None) -> None:
        if ended is not None and not ended.cancelled() and ended.exception() is not None:
            log.warning("change feed: %s", ended.exception())
        await self.close()
        while True:
            delay = RETRY_SECONDS[min(self._failures, len(RETRY_SECONDS) - 1)]
            self._failures += 1
            await asyncio.sleep(delay)
            try:
                await self._connect()
                return
            except Exception as error:  # the server may be restarting: keep trying
                log.warning("change feed: %s; retrying in %s s", error, delay)
