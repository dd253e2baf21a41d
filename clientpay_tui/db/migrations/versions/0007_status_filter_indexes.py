"""indexes for the payer list's status filter: locked and invited logins, live welcome links

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:10:00

The status filter gathers the payers of a rare state (locked, a handful invited or active)
through their logins instead of walking every payer in name order; deciding which needs the
logins in a state counted cheaply, and "Invite expired" tests each invited login for a live
welcome link, which the link index answers without reading the token rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_portal_login_locked_until": ("portal_login", ["locked_until"]),
    "ix_portal_login_status": ("portal_login", ["status", "locked_until"]),
    "ix_access_token_link": (
        "access_token",
        ["login_id", "purpose", "used_at", "revoked_at", "expires_at"],
    ),
}


def upgrade() -> None:
    for name, (table, columns) in INDEXES.items():
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, (table, _columns) in INDEXES.items():
        op.drop_index(name, table_name=table)
