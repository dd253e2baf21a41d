"""Database errors people can act on: a locked SQLite file, an unreachable server."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import func, select

from clientpay_tui.config import load_settings
from clientpay_tui.db import engine as engine_module
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Payer
from clientpay_tui.errors import DatabaseBusy, DatabaseError
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm


@pytest.fixture
def locked_sqlite(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch):
    """A migrated SQLite file, a Services on it with a short busy timeout, and a lock holder."""
    path = tmp_path / "busy.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setattr(engine_module, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    url = f"sqlite:///{path}"
    db = Database(url)
    services = Services(db, load_settings(database_url=url))
    admin = command_line_actor("tester")
    services.payers.create(admin, PayerForm(name="Existing"))
    other = sqlite3.connect(path, isolation_level=None)  # another program
    yield services, admin, other
    other.close()
    db.dispose()


def _payers(services) -> list[str]:
    with services.db.read() as session:
        return list(session.scalars(select(Payer.name).order_by(Payer.id)))


def test_a_write_lock_held_elsewhere_surfaces_as_database_busy(locked_sqlite) -> None:
    services, admin, other = locked_sqlite
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE payer SET notes = 'being edited elsewhere'")

    started = time.monotonic()
    with pytest.raises(DatabaseBusy) as busy:
        services.payers.create(admin, PayerForm(name="Blocked"))
    waited = time.monotonic() - started

    message = str(busy.value)
    assert message == "the database is locked by another program; nothing was changed, try again"
    assert 0.15 < waited < 5
    assert _payers(services) == ["Existing"]  # reads still work during the lock (WAL)

    other.execute("COMMIT")
    services.payers.create(admin, PayerForm(name="After"))  # nothing lost, nothing stuck
    assert _payers(services) == ["Existing", "After"]
    with services.db.read() as session:
        assert session.scalar(select(func.count()).where(Payer.notes.is_not(None))) == 1


def test_busy_during_an_access_grant_leaves_no_half_grant(locked_sqlite) -> None:
    services, admin, other = locked_sqlite
    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com"))
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(DatabaseBusy):
        services.access.grant(admin, payer.id)
    other.execute("ROLLBACK")
    assert services.payers.get(admin, payer.id).login is None
    services.access.grant(admin, payer.id)
    assert services.payers.get(admin, payer.id).login is not None


def test_a_read_of_single_statements_opens_no_transaction_and_never_writes(services, admin):
    """``read(each_statement=True)``: on PostgreSQL no BEGIN (autocommit), on both backends no
    flush; the pooled connection goes back to transactions for the next read."""
    db = services.db
    services.payers.create(admin, PayerForm(name="Existing"))
    with db.read(each_statement=True) as session:
        payer = session.scalars(select(Payer)).one()
        connection = session.connection().connection.dbapi_connection
        if not db.is_sqlite:
            assert connection.info.transaction_status == TransactionStatus.IDLE
        payer.notes = "changed in a read"
        with pytest.raises(RuntimeError, match="a read session does not write"):
            session.flush()
    with db.read() as session:
        assert session.scalar(select(Payer.notes)) is None
        connection = session.connection().connection.dbapi_connection
        if not db.is_sqlite:
            assert connection.info.transaction_status == TransactionStatus.INTRANS


def test_unreachable_postgresql_is_one_line() -> None:
    db = Database("postgresql+psycopg://nobody:secret@127.0.0.1:9/nowhere?connect_timeout=2")
    try:
        with pytest.raises(DatabaseError) as failed, db.read() as session:
            session.execute(select(1))
    finally:
        db.dispose()
    message = str(failed.value)
    assert message.startswith(
        "cannot use the database postgresql+psycopg://nobody:***@127.0.0.1:9/"
    )
    assert "secret" not in message and "\n" not in message


def test_unopenable_sqlite_file_is_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "a-directory.db"
    folder.mkdir()
    db = Database(f"sqlite:///{folder}")
    try:
        with pytest.raises(DatabaseError, match="cannot open the database file"), db.read() as s:
            s.execute(select(1))
    finally:
        db.dispose()


def test_invalid_url() -> None:
    with pytest.raises(DatabaseError, match="invalid database URL"):
        Database("not a url at all")
