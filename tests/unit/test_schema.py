"""Migrations and schema versioning: created at head, refused when outdated or foreign."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.errors import DatabaseError, SchemaOutdated


@pytest.fixture
def empty_db(empty_database_url: str):
    database = Database(empty_database_url)
    yield database
    database.dispose()


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def test_head_revision_constant_matches_the_migration_scripts() -> None:
    # ensure_current compares with the constant so that a normal start need not import Alembic
    assert schema.head_revision() == schema.HEAD_REVISION


def test_a_current_database_is_accepted_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cp.db'}"
    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    program = (
        "import sys\n"
        "from clientpay_tui.db import schema\n"
        "from clientpay_tui.db.engine import Database\n"
        f"db = Database({url!r})\n"
        "schema.ensure_current(db)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def test_upgrade_from_empty_reaches_head_without_drift(empty_db: Database) -> None:
    assert schema.current_revision(empty_db) is None

    before, after = schema.upgrade(empty_db)

    assert (before, after) == (None, schema.head_revision())
    assert schema.current_revision(empty_db) == schema.head_revision()
    assert {"payer", "portal_login", "invoice", "association", "outbox_email"} <= _tables(empty_db)
    assert schema.schema_drift(empty_db) == []


def test_migrated_fixture_database_has_no_drift(db: Database) -> None:
    assert schema.schema_drift(db) == []


def test_upgrade_twice_is_a_no_op(empty_db: Database) -> None:
    schema.upgrade(empty_db)
    assert schema.upgrade(empty_db) == (schema.head_revision(), schema.head_revision())


def test_downgrade_to_base_and_up_again(empty_db: Database) -> None:
    schema.upgrade(empty_db)
    with empty_db.engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "base")

    assert schema.current_revision(empty_db) is None
    assert _tables(empty_db) <= {"alembic_version"}

    schema.upgrade(empty_db)
    assert schema.current_revision(empty_db) == schema.head_revision()
    assert schema.schema_drift(empty_db) == []


def test_new_empty_database_is_created_at_head_on_first_use(empty_db: Database) -> None:
    schema.ensure_current(empty_db)

    assert schema.current_revision(empty_db) == schema.head_revision()
    schema.ensure_current(empty_db)  # a current database is accepted as it is


def test_missing_sqlite_file_and_folder_are_created_on_first_use(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "clientpay.db"
    db = Database(f"sqlite:///{path}")
    try:
        schema.ensure_current(db)
    finally:
        db.dispose()
    assert path.is_file()


def test_database_with_foreign_tables_is_refused(empty_db: Database) -> None:
    with empty_db.engine.begin() as connection:
        connection.execute(text("CREATE TABLE customers (id INTEGER PRIMARY KEY)"))

    with pytest.raises(DatabaseError, match="no ClientPay schema version; refusing"):
        schema.ensure_current(empty_db)
    with pytest.raises(DatabaseError, match="refusing to touch it"):
        schema.upgrade(empty_db)
    assert _tables(empty_db) == {"customers"}


def test_outdated_database_is_refused_until_db_upgrade(empty_db: Database, newer_code) -> None:
    old, newer = newer_code
    schema.upgrade(empty_db, old)

    with pytest.raises(SchemaOutdated) as refused:
        schema.ensure_current(empty_db)

    message = str(refused.value)
    assert "clientpay-tui db upgrade" in message
    assert old in message and newer in message
    assert "\n" not in message
    assert schema.current_revision(empty_db) == old  # refusing changes nothing

    assert schema.upgrade(empty_db) == (old, newer)
    schema.ensure_current(empty_db)
    assert "later_table" in _tables(empty_db)


def test_database_newer_than_the_code_is_refused(empty_db: Database) -> None:
    schema.upgrade(empty_db)
    with empty_db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))

    with pytest.raises(SchemaOutdated, match="newer than this version of clientpay-tui"):
        schema.ensure_current(empty_db)
