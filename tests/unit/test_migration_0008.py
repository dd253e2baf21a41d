"""Migration 0008: the outbox accepts invite_reminder, logins gain reminder_sent_at, and the
downgrade keeps every login and its tokens (no table copy of portal_login)."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database

INSERT = text(
    "INSERT INTO outbox_email (kind, to_address, to_name, subject, body_text, message_id, "
    "status, attempts, next_attempt_at, requested_by, created_at) VALUES (:kind, "
    "'ada@example.com', 'Ada', 'Subject', 'Body', :message_id, 'queued', 0, "
    "'2026-03-02 09:30:00', 'sam', '2026-03-02 09:30:00')"
)
LOGIN = text(
    "INSERT INTO portal_login (email_key, status, created_at, failed_attempts) "
    "VALUES ('ada@example.com', 'invited', '2026-03-02 09:30:00', 0)"
)
TOKEN = text(
    "INSERT INTO access_token (login_id, purpose, token_hash, created_at, expires_at) "
    "SELECT id, 'welcome', 'h', '2026-03-02 09:30:00', '2026-03-09 09:30:00' FROM portal_login"
)


@pytest.fixture
def empty_db(empty_database_url: str):
    database = Database(empty_database_url)
    yield database
    database.dispose()


def _scalars(db: Database, sql: str) -> list[object]:
    with db.engine.connect() as connection:
        return list(connection.execute(text(sql)).scalars())


def test_upgrade_and_downgrade_keep_logins_tokens_and_the_outbox(empty_db: Database) -> None:
    schema.upgrade(empty_db, "0007")
    with empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "welcome", "message_id": "<1@x>"})
        connection.execute(LOGIN)
        connection.execute(TOKEN)
    with pytest.raises(IntegrityError), empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "invite_reminder", "message_id": "<2@x>"})

    schema.upgrade(empty_db)
    with empty_db.engine.begin() as connection:
        connection.execute(INSERT, {"kind": "invite_reminder", "message_id": "<2@x>"})
        connection.execute(text("UPDATE portal_login SET reminder_sent_at = created_at"))
    assert _scalars(empty_db, "SELECT kind FROM outbox_email ORDER BY id") == [
        "welcome",
        "invite_reminder",
    ]
    assert schema.schema_drift(empty_db) == []

    with empty_db.engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0007")
    assert _scalars(empty_db, "SELECT kind FROM outbox_email") == ["welcome"]
    assert _scalars(empty_db, "SELECT email_key FROM portal_login") == ["ada@example.com"]
    assert _scalars(empty_db, "SELECT token_hash FROM access_token") == ["h"]
    with empty_db.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("portal_login")}
    assert "reminder_sent_at" not in columns
