"""Migration 0004: wallets and transactions made before gateways keep what they showed, and a
transaction's invoice moves to the link table (and back on downgrade)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def empty_db(empty_database_url: str):
    database = Database(empty_database_url)
    yield database
    database.dispose()


def _rows(db: Database, sql: str) -> list[tuple[object, ...]]:
    with db.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(sql))]


def test_upgrade_from_0003_keeps_wallets_and_transactions(empty_db: Database) -> None:
    schema.upgrade(empty_db, "0003")
    with empty_db.engine.begin() as connection:
        for sql in (
            "INSERT INTO client (id, number, number_key, name, name_key)"
            " VALUES (1, 'C1', 'c1', 'Acme', 'acme')",
            "INSERT INTO invoice (id, client_id, number, number_key, invoice_date, amount_cents,"
            " balance_cents, source) VALUES (5, 1, 'INV-5', 'inv-5', '2026-01-01', 900, 400,"
            " 'connect')",
            "INSERT INTO payer (id, name, sort_name, created_at, updated_at, version)"
            " VALUES (3, 'Ada', 'ada', :ts, :ts, 1)",
            "INSERT INTO wallet (id, payer_id, kind, label, is_default, created_at)"
            " VALUES (2, 3, 'card', 'Visa •••• 4242', true, :ts)",
            "INSERT INTO payment_transaction (id, payer_id, wallet_id, invoice_id, amount_cents,"
            " status, description, created_at) VALUES (8, 3, 2, 5, 500, 'succeeded', 'x', :ts)",
        ):
            connection.execute(text(sql), {"ts": NOW})

    schema.upgrade(empty_db)

    assert _rows(empty_db, "SELECT brand, last4, token FROM wallet") == [("Visa", "4242", None)]
    assert _rows(
        empty_db, "SELECT method_label, idempotency_key, refunded_cents FROM payment_transaction"
    ) == [("Visa •••• 4242", None, 0)]
    assert _rows(
        empty_db, "SELECT transaction_id, invoice_id, amount_cents FROM transaction_invoice"
    ) == [(8, 5, 500)]
    assert schema.schema_drift(empty_db) == []

    from alembic import command

    with empty_db.engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0003")
    assert _rows(empty_db, "SELECT id, invoice_id, wallet_id FROM payment_transaction") == [
        (8, 5, 2)
    ]
