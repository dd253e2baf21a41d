"""Migration 0009: stored name keys lose their accents, invoice numbers get a contains-index,
and a database at 0005 upgrades and downgrades with its rows intact."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import text

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.services.candidates import CandidateFilter, CandidateSort, candidate_page
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services

NOW = datetime(2026, 3, 2, 9, 30)


@pytest.fixture
def empty_db(empty_database_url: str):
    database = Database(empty_database_url)
    yield database
    database.dispose()


def _keys(db: Database) -> dict[str, list[str]]:
    with db.engine.connect() as connection:
        return {
            "payer": list(
                connection.execute(text("SELECT sort_name FROM payer ORDER BY id")).scalars()
            ),
            "client": list(
                connection.execute(text("SELECT name_key FROM client ORDER BY id")).scalars()
            ),
            "matter": list(
                connection.execute(text("SELECT description_key FROM matter ORDER BY id")).scalars()
            ),
            "invoice": list(
                connection.execute(text("SELECT number_key FROM invoice ORDER BY id")).scalars()
            ),
        }


def _numbers(db: Database, search: str) -> list[str]:
    with db.read() as session:
        rows = candidate_page(session, CandidateFilter(text=search), CandidateSort(), 0, 50)
        return [row.invoice_number for row in rows]


def test_upgrade_strips_accents_from_name_keys_and_indexes_invoice_numbers(
    empty_db: Database, settings, clock
) -> None:
    schema.upgrade(empty_db, "0008")
    with empty_db.engine.begin() as connection:
        for pid, name in ((1, "Tom Baker"), (2, "Élodie Martin"), (3, "Ada")):
            connection.execute(
                text(
                    "INSERT INTO payer (id, name, sort_name, created_at, updated_at, version)"
                    " VALUES (:id, :name, :key, :ts, :ts, 1)"
                ),
                {"id": pid, "name": name, "key": name.casefold(), "ts": NOW},
            )
        connection.execute(
            text(
                "INSERT INTO client (id, number, number_key, name, name_key)"
                " VALUES (1, 'C-É1', 'c-é1', 'Société Générale', 'société générale')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO matter (id, client_id, number, number_key, description,"
                " description_key) VALUES (1, 1, 'M-1', 'm-1', 'Réclamation', 'réclamation')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO invoice (id, client_id, matter_id, number, number_key, invoice_date,"
                " amount_cents, balance_cents, source)"
                " VALUES (1, 1, 1, 'INV-880412', 'inv-880412', '2026-03-01', 100, 100, 'connect')"
            )
        )

    schema.upgrade(empty_db)
    assert _keys(empty_db) == {
        "payer": ["tom baker", "elodie martin", "ada"],
        "client": ["societe generale"],
        "matter": ["reclamation"],
        "invoice": ["inv-880412"],  # numbers are identifiers: keys unchanged
    }
    assert schema.schema_drift(empty_db) == []
    services, admin = Services(empty_db, settings, clock), command_line_actor("tester")
    assert [r.name for r in services.payers.search(admin, "")] == [
        "Ada",
        "Élodie Martin",
        "Tom Baker",
    ]
    assert _numbers(empty_db, "880412") == ["INV-880412"]
    # An invoice added after the upgrade is in the index too (its triggers / trigram index).
    with empty_db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO invoice (id, client_id, matter_id, number, number_key, invoice_date,"
                " amount_cents, balance_cents, source)"
                " VALUES (2, 1, 1, 'INV-770413', 'inv-770413', '2026-03-01', 100, 100, 'connect')"
            )
        )
    assert _numbers(empty_db, "0413") == ["INV-770413"]

    with empty_db.engine.begin() as connection:
        command.downgrade(schema.alembic_config(connection), "0008")
    assert _keys(empty_db)["payer"] == ["tom baker", "elodie martin", "ada"]
