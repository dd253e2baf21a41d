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

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from clientpay_tui.db.search_index import create_search_indexes, drop_search_indexes
from clientpay_tui.services.validation import search_key

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


def upgrade() -> None:
    for table, text, key in (*KEYS, KEYS_OF_MATTERS):
        _rewrite_keys(table, text, key)
    create_search_indexes(op.get_bind(), only=("invoice_fts",))
    op.create_index("ix_outbox_email_created", "outbox_email", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_email_created", table_name="outbox_email")
    drop_search_indexes(op.get_bind(), only=("invoice_fts",))
    # The keys without accents stay: the older code searches them as casefolded text (an
    # accented search then misses), and sorts them as this one does.
