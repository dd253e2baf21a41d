"""Engine and session handling for SQLite (embedded) and PostgreSQL (multi-user).

Services open one transaction per call with :meth:`Database.write` (or :meth:`Database.read`
for queries). On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` so that a
read-then-write never fails half-way with "database is locked" when another process writes;
reads stay deferred so searching never waits for a writer (WAL).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from clientpay_tui import query_interrupt as interrupt
from clientpay_tui.errors import DatabaseBusy, DatabaseError

SQLITE_BUSY_TIMEOUT_S = 10.0
_READ_ONLY = "clientpay_read_only"


class Database:
    """One configured database: its engine and transaction scopes."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        try:
            self.url = make_url(url)
        except exc.ArgumentError:
            raise DatabaseError(f"invalid database URL: {url}") from None
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._create_engine(echo)
        event.listen(self.engine, "before_cursor_execute", _unless_interrupted)
        self._read_engine = self.engine.execution_options(**{_READ_ONLY: True})
        self._writer = sessionmaker(self.engine, expire_on_commit=False)
        self._reader = sessionmaker(self._read_engine, expire_on_commit=False)
        # PostgreSQL without BEGIN and ROLLBACK: two round trips fewer per read (see read()).
        statement_engine = (
            self._read_engine
            if self.is_sqlite
            else self._read_engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._statement_reader = sessionmaker(statement_engine, expire_on_commit=False)
        event.listen(self._statement_reader, "before_flush", _no_writes)

    @property
    def display_url(self) -> str:
        """The URL with any password hidden, for messages."""
        return self.url.render_as_string(hide_password=True)

    def _create_engine(self, echo: bool) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, echo=echo, pool_pre_ping=True)
        path = self.url.database
        if path and path != ":memory:":
            folder = Path(path).expanduser().parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise DatabaseError(
                    f"cannot create the folder {folder} for the database file {path}: "
                    f"{error.strerror or error}"
                ) from None
        engine = create_engine(self.url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction that commits on success and rolls back on error."""
        with translate_errors(self), self._writer.begin() as session:
            yield session

    @contextmanager
    def read(self, *, each_statement: bool = False) -> Iterator[Session]:
        """A session for queries; its transaction is always rolled back. Under a
        :class:`~clientpay_tui.query_interrupt.QueryInterrupt` its statements can be stopped
        from another thread.

        Args:
            each_statement: on PostgreSQL, run each statement in a transaction of its own
                (autocommit), saving the ``BEGIN`` and ``ROLLBACK`` round trips; for short reads
                run on every request (the portal's session check and home page). At READ
                COMMITTED, PostgreSQL's default, every statement of a transaction takes a
                snapshot of its own anyway, so the answers are the same. Not for reads that
                stream rows (``yield_per``: a server-side cursor needs a transaction); the ORM
                refuses to flush in it. SQLite keeps its read transaction (one snapshot).
        """
        maker = self._statement_reader if each_statement else self._reader
        with translate_errors(self), maker() as session:
            stop = interrupt.current()
            connection = session.connection().connection.dbapi_connection if stop else None
            if stop is not None:
                stop.attach(connection)
            try:
                yield session
            finally:
                if stop is not None:
                    stop.detach(connection)
                session.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


def _no_writes(session: Session, *_args: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read session does not write: use Database.write()")


def _unless_interrupted(*_args: Any) -> None:
    interrupt.check()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module; see _sqlite_on_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    if conn.get_execution_options().get(_READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def translate_errors(db: Database) -> Iterator[None]:
    """Turn driver errors that people can act on into one-line :class:`DatabaseError`s."""
    try:
        yield
    except exc.OperationalError as error:
        raise database_error(db, error) from error
    except exc.InterfaceError as error:
        raise database_error(db, error) from error
    except exc.DatabaseError as error:
        # Only a file that is not (or no longer) an SQLite database: integrity and
        # programming errors are the caller's or bugs.
        if not _not_a_database(error):
            raise
        raise DatabaseError(
            f"{db.url.database} is not a ClientPay database (not an SQLite file, or damaged)"
        ) from error


def _not_a_database(error: exc.DBAPIError) -> bool:
    detail = str(error.orig)
    return "file is not a database" in detail or "database disk image is malformed" in detail


def database_error(db: Database, error: exc.DBAPIError) -> DatabaseError:
    detail = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    if "database is locked" in detail or "database table is locked" in detail:
        return DatabaseBusy(
            "the database is locked by another program; nothing was changed, try again"
        )
    if "unable to open database file" in detail:
        return DatabaseError(f"cannot open the database file {db.url.database}")
    detail = re.sub(r"\s+", " ", detail)
    return DatabaseError(f"cannot use the database {db.display_url}: {detail}")
