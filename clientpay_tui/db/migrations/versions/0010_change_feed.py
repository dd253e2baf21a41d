"""change feed: triggers that tell open staff screens what another session changed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 14:10:00

PostgreSQL: statement-level triggers NOTIFY ``clientpay_changes``. SQLite: row triggers append
to a ``change_log`` table that the app polls. See ``clientpay_tui.db.change_triggers``. Must
run after any migration that batch-rebuilds payer, portal_login, association or outbox_email
on SQLite (the rebuild drops their triggers), or call ``create_change_triggers`` again there.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from clientpay_tui.db.change_triggers import create_change_triggers, drop_change_triggers

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_change_triggers(op.get_bind())


def downgrade() -> None:
    drop_change_triggers(op.get_bind())
