"""sort indexes for candidate invoices: amount, balance, source, matter description

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:40:00

The add-associations screen sorts candidate invoices by any column; with many matches the page
is found by walking the sort order, which needs an index on it (the matter's number already
had one).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_invoice_amount": ("invoice", ["amount_cents", "id"]),
    "ix_invoice_balance": ("invoice", ["balance_cents", "id"]),
    "ix_invoice_source": ("invoice", ["source", "id"]),
    "ix_matter_description_key": ("matter", ["description_key"]),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
