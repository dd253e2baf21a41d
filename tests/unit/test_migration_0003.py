"""Migration 0003: portal login ids are never reused, and upgrading keeps logins, links and
the payers' logins (the SQLite table rebuild must not lose them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import EmailKind, LoginStatus, PortalLogin

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def empty_db(empty_database_url: str):
    database = Database(empty_database_url)
    yield database
    database.dispose()


def _new_login(db: Database, email: str) -> int:
    with db.write() as session:
        login = PortalLogin(
            email_key=email, status=LoginStatus.INVITED, created_at=NOW, failed_attempts=0
        )
        session.add(login)
        session.flush()
        return login.id


def test_a_deleted_login_id_is_never_given_to_the_next_login(db: Database) -> None:
    first = _new_login(db, "a@example.com")
    with db.write() as session:
        session.delete(session.get(PortalLogin, first))
    second = _new_login(db, "b@example.com")
    assert second > first


def test_upgrade_from_0002_keeps_logins_links_and_payers(empty_db: Database) -> None:
    schema.upgrade(empty_db, "0002")
    with empty_db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO portal_login (id, email_key, status, created_at, failed_attempts)"
                " VALUES (7, 'a@example.com', 'active', :ts, 0)"
            ),
            {"ts": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO payer (id, name, sort_name, email, email_key, login_id,"
                " created_at, updated_at, version)"
                " VALUES (3, 'Ada', 'ada', 'a@example.com', 'a@example.com', 7, :ts, :ts, 1)"
            ),
            {"ts": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO access_token (id, login_id, purpose, token_hash, created_at,"
                " expires_at) VALUES (5, 7, 'reset', :h, :ts, :later)"
            ),
            {"h": "f" * 64, "ts": NOW, "later": NOW + timedelta(hours=1)},
        )
    schema.upgrade(empty_db)
    with empty_db.engine.connect() as connection:
        assert connection.execute(text("SELECT login_id FROM payer WHERE id = 3")).scalar() == 7
        assert connection.execute(text("SELECT login_id FROM access_token")).all() == [(7,)]
        assert connection.execute(text("SELECT mfa_exempt FROM payer")).scalar() in (0, False)
    with empty_db.write() as session:
        session.delete(session.get(PortalLogin, 7))
    if empty_db.is_sqlite:  # PostgreSQL's identity does not see the explicit id 7 above
        assert _new_login(empty_db, "b@example.com") > 7


def test_the_outbox_accepts_sign_in_codes_and_still_refuses_unknown_kinds(db: Database) -> None:
    insert = text(
        "INSERT INTO outbox_email (kind, to_address, to_name, subject, message_id, status,"
        " attempts, next_attempt_at, requested_by, created_at)"
        " VALUES (:kind, 'a@x.test', 'A', 's', :mid, 'queued', 0, :ts, 'portal', :ts)"
    )
    with db.engine.begin() as connection:
        connection.execute(
            insert, {"kind": EmailKind.SIGN_IN_CODE.value, "mid": "<1@x>", "ts": NOW}
        )
    with pytest.raises(IntegrityError, match=r"(?i)check"), db.engine.begin() as connection:
        connection.execute(insert, {"kind": "bogus", "mid": "<2@x>", "ts": NOW})


def test_the_payer_search_triggers_survive_the_upgrade(empty_db: Database) -> None:
    """Rebuilding ``payer`` in batch mode dropped its FTS triggers: searches then missed
    renamed and new payers."""
    schema.upgrade(empty_db)
    if not empty_db.is_sqlite:
        pytest.skip("FTS triggers are SQLite's")
    with empty_db.engine.connect() as connection:
        triggers = set(
            connection.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                    "AND tbl_name = 'payer' AND name LIKE 'payer_fts_%'"
                )
            ).scalars()
        )
    assert triggers == {"payer_fts_ai", "payer_fts_ad", "payer_fts_au"}


def test_downgrade_to_0002_and_up_again(empty_db: Database) -> None:
    schema.upgrade(empty_db)
    schema.upgrade(empty_db)  # no-op
    from alembic import command

    with empty_db.engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0002")
    schema.upgrade(empty_db)
    assert schema.current_revision(empty_db) == schema.HEAD_REVISION
