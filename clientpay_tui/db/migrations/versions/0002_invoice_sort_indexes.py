"""invoice sort indexes: amount, balance

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 19:40:00

The add-associations screen sorts candidate invoices by amount or balance; with many matches
the page is found by walking the sort order, which needs an index on it.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_invoice_amount": ["amount_cents", "id"],
    "ix_invoice_balance": ["balance_cents", "id"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.create_index(name, "invoice", columns, unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="invoice")
