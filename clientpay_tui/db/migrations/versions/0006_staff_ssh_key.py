"""staff_ssh_key: public keys that sign a staff member in over SSH (ExposeAuthInfo)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:10:00

A new table only: a key belongs to one staff account (deleted with it) and is found by its
unique SHA-256 fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clientpay_tui.db.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_ssh_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("key_type", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("comment", sa.String(length=200), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff.id"],
            name=op.f("fk_staff_ssh_key_staff_id_staff"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_ssh_key")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_staff_ssh_key_fingerprint")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("staff_ssh_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_ssh_key_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    op.drop_table("staff_ssh_key")
