"""email kind login_moved: the notice to a login's old address when staff move the login

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:40:00

``outbox_email.kind`` is a non-native enum with a CHECK constraint listing its values, so a new
kind of email needs the constraint rewritten (SQLite: by batch mode's table copy).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ck_outbox_email_email_kind"
BEFORE = ("welcome", "reset", "access_added", "password_changed", "sign_in_code", "receipt")
AFTER = (*BEFORE, "login_moved")


def _allow(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table("outbox_email") as batch_op:
        batch_op.drop_constraint(op.f(CONSTRAINT), type_="check")
        batch_op.create_check_constraint(op.f(CONSTRAINT), f"kind IN ({listed})")


def upgrade() -> None:
    _allow(AFTER)


def downgrade() -> None:
    # The older schema cannot hold these notices; the audit log still says they were sent.
    op.execute("DELETE FROM outbox_email WHERE kind = 'login_moved'")
    _allow(BEFORE)
