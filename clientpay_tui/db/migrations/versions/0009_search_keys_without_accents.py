"""search keys without accents, invoice numbers searched by any part, the outbox by date

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 14:30:00

- Names and descriptions are sorted and searched by a key without accents (``Élodie`` with the
  E names, not after ``Tom``; see ``validation.search_key``): the stored ``payer.sort_name``,
  ``client.name_key`` and ``matter.description_key`` of every row whose text is not plain ASCII
  are written again (an ASCII key does not change). The search-index triggers follow on
  SQLite. Numbers keep their keys: they are identifiers (``validation.number_key``).
- ``invoice.number_key`` gets a contains-search index like the names (SQLite FTS5 trigram
  table and triggers, PostgreSQL ``pg_trgm``): ``880412`` finds ``INV-00880412``.
- ``outbox_email`` gets an index on ``(created_at, id)``: the Mail screen lists it newest first
  by the date it shows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


def search_key(value: str) -> str:
    """``validation.search_key`` as it was when this migration was written (a migration keeps
    its own copy: changing the live function must not change what an old upgrade did). The
    stored names were cleaned (NFC, no control characters, stripped) on the way in."""
    folded = unicodedata.normalize("NFKD", value.casefold())
    if folded.isascii():
        return folded
    kept = "".join(c for c in folded if not "\u0300" <= c <= "\u036f")
    return unicodedata.normalize("NFC", kept)


revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = (("payer", "name", "sort_name"), ("client", "name", "name_key"))
KEYS_OF_MATTERS = ("matter", "description", "description_key")
BATCH = 1000


def _rewrite_keys(table: str, text: str, key: str) -> None:
    """Write ``key`` again from ``text`` where they differ (only non-ASCII text can)."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {text}, {key} FROM {table}")).all()
    changed = [
        {"id": row[0], "key": search_key(row[1] or "")}
        for row in rows
        if row[1] and not row[1].isascii() and search_key(row[1]) != row[2]
    ]
    update = sa.text(f"UPDATE {table} SET {key} = :key WHERE id = :id")
    for start in range(0, len(changed), BATCH):
        connection.execute(update, changed[start : start + BATCH])


# The invoice number index, written out (not the live search_index code: a migration must do
# the same thing whatever later code looks like): SQLite an FTS5 trigram table kept by triggers,
# PostgreSQL a trigram GIN index.
SQLITE_UPGRADE = (
    "CREATE VIRTUAL TABLE invoice_fts USING fts5(number_key, content='invoice', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER invoice_fts_ai AFTER INSERT ON invoice BEGIN "
    "INSERT INTO invoice_fts(rowid, number_key) VALUES (new.id, new.number_key); END",
    "CREATE TRIGGER invoice_fts_ad AFTER DELETE ON invoice BEGIN "
    "INSERT INTO invoice_fts(invoice_fts, rowid, number_key) "
    "VALUES ('delete', old.id, old.number_key); END",
    "CREATE TRIGGER invoice_fts_au AFTER UPDATE OF number_key ON invoice BEGIN "
    "INSERT INTO invoice_fts(invoice_fts, rowid, number_key) "
    "VALUES ('delete', old.id, old.number_key); "
    "INSERT INTO invoice_fts(rowid, number_key) VALUES (new.id, new.number_key); END",
    "INSERT INTO invoice_fts(invoice_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER IF EXISTS invoice_fts_ai",
    "DROP TRIGGER IF EXISTS invoice_fts_ad",
    "DROP TRIGGER IF EXISTS invoice_fts_au",
    "DROP TABLE IF EXISTS invoice_fts",
)
POSTGRESQL_UPGRADE = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_invoice_number_key_trgm ON invoice "
    "USING gin (number_key gin_trgm_ops)",
)
POSTGRESQL_DOWNGRADE = ("DROP INDEX IF EXISTS ix_invoice_number_key_trgm",)


def _run(sqlite: tuple[str, ...], postgresql: tuple[str, ...]) -> None:
    connection = op.get_bind()
    for statement in sqlite if connection.dialect.name == "sqlite" else postgresql:
        connection.exec_driver_sql(statement)


def upgrade() -> None:
    for table, text, key in (*KEYS, KEYS_OF_MATTERS):
        _rewrite_keys(table, text, key)
    _run(SQLITE_UPGRADE, POSTGRESQL_UPGRADE)
    op.create_index("ix_outbox_email_created", "outbox_email", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_email_created", table_name="outbox_email")
    _run(SQLITE_DOWNGRADE, POSTGRESQL_DOWNGRADE)
    # The keys without accents stay: the older code searches them as casefolded text (an
    # accented search then misses), and sorts them as this one does.
