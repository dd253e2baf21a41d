"""Migration 0005: the outbox accepts the login_moved notice, and keeps every email it had."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database

INSERT = text(
    "INSERT INTO outbox_email (kind, to_address, to_name, subject, body_text, message_id, "
    "status, attempts, next_attempt_at, requested_by, created_at) VALUES (:kind, "
    "'ada@example.com', 'Ada', 'Subject', 'Body', :message_id, 'queued', 0, "
    "'2026-03-02 09:30:00', 'sam', '2026-03-02 09:30:00')"
)


@pytest.fixture
def empty_db(empty_database_url: str):
    database = Database(empty_database_url)
    yield database
    database.dispose()


def _kinds(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT kind FROM outbox_email ORDER BY id"))
        return list(rows.scalars())


def test_upgrade_allows_the_notice_and_keeps_the_outbox(empty_db: Database) -> None:
    schema.upgrade(empty_db, "0004")
    with empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "welcome", "message_id": "<1@x>"})
    with pytest.raises(IntegrityError), empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "login_moved", "message_id": "<2@x>"})

    schema.upgrade(empty_db)
    with empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "login_moved", "message_id": "<2@x>"})
    assert _kinds(empty_db) == ["welcome", "login_moved"]
    with pytest.raises(IntegrityError), empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "no_such_kind", "message_id": "<3@x>"})
    assert schema.schema_drift(empty_db) == []

    with empty_db.engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0004")
    assert _kinds(empty_db) == ["welcome"]
