"""invite reminder: one reminder email of an invitation not accepted after a few days

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:10:00

- ``portal_login.reminder_sent_at``: when the one reminder was queued. Senders set it with a
  conditional update (``WHERE reminder_sent_at IS NULL``) in the transaction that queues the
  email, so that several senders at once queue one reminder. A plain ADD COLUMN (nullable).
- ``ix_portal_login_reminder`` for the senders' scan of invitations not yet reminded.
- ``outbox_email.kind`` gains ``invite_reminder`` (the CHECK constraint is rewritten, as in
  0005; on SQLite by batch mode's copy of ``outbox_email``, never of ``payer``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clientpay_tui.db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_outbox_email_email_kind"
BEFORE = (
    "welcome",
    "reset",
    "access_added",
    "password_changed",
    "sign_in_code",
    "receipt",
    "login_moved",
)
AFTER = (*BEFORE, "invite_reminder")


def _allow(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("outbox_email") as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), f"kind IN ({listed})")


def upgrade() -> None:
    op.add_column(
        "portal_login",
        sa.Column(
            "reminder_sent_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
    )
    op.create_index(
        "ix_portal_login_reminder", "portal_login", ["status", "reminder_sent_at"], unique=False
    )
    _allow(AFTER)


def downgrade() -> None:
    # The older schema cannot hold reminders; the audit log still says they were sent.
    op.execute("DELETE FROM outbox_email WHERE kind = 'invite_reminder'")
    _allow(BEFORE)
    op.drop_index("ix_portal_login_reminder", table_name="portal_login")
    # Not batch mode on SQLite: its copy would drop portal_login, and with foreign keys on
    # that deletes every login's tokens and sessions. SQLite 3.35+ drops a column in place.
    op.execute("ALTER TABLE portal_login DROP COLUMN reminder_sent_at")
