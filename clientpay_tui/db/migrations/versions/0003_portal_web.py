"""payer portal on the web: never-reused login ids, server-side sessions, rate limits, MFA

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:40:00

- ``portal_login`` ids are never reused: SQLite hands a deleted row's id to the next row unless
  the table is ``AUTOINCREMENT``, so a session or link that outlived a deleted login would find
  the next login under its id. SQLite cannot add ``AUTOINCREMENT`` to a table, so the table is
  rebuilt (Alembic batch mode, ``sqlite_autoincrement``). The rebuild drops the old table, and
  with foreign keys on (which cannot be switched off inside the migration's transaction) that
  drop deletes the logins' tokens and empties ``payer.login_id``: both are kept aside in
  temporary tables and put back. PostgreSQL identities never reuse: nothing to do there.
- ``portal_session``: server-side browser sessions (id = SHA-256 of the cookie value).
- ``portal_rate_event``: per-IP and per-account attempts, for rate limits shared by every
  portal process.
- ``payer.mfa_exempt``: staff let one payer skip the emailed sign-in code.
- ``outbox_email.kind`` gains ``sign_in_code``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clientpay_tui.db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("welcome", "reset", "access_added", "password_changed")
NEW_KINDS = (*OLD_KINDS, "sign_in_code")


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def _rebuild_portal_login_sqlite(autoincrement: bool) -> None:
    op.execute(
        "CREATE TEMP TABLE keep_payer_login AS SELECT id, login_id FROM payer WHERE login_id IS NOT NULL"
    )
    op.execute("CREATE TEMP TABLE keep_access_token AS SELECT * FROM access_token")
    with op.batch_alter_table(
        "portal_login",
        recreate="always",
        table_kwargs={"sqlite_autoincrement": autoincrement},
    ):
        pass
    op.execute("DELETE FROM access_token")
    op.execute("INSERT INTO access_token SELECT * FROM keep_access_token")
    op.execute(
        "UPDATE payer SET login_id = (SELECT k.login_id FROM keep_payer_login k WHERE k.id = payer.id) "
        "WHERE id IN (SELECT id FROM keep_payer_login)"
    )
    op.execute("DROP TABLE keep_payer_login")
    op.execute("DROP TABLE keep_access_token")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _rebuild_portal_login_sqlite(autoincrement=True)

    op.create_table(
        "portal_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=True),
        sa.Column(
            "stage",
            sa.Enum(
                "anonymous",
                "link",
                "mfa",
                "signed_in",
                name="web_stage",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("csrf_secret", sa.String(length=64), nullable=False),
        sa.Column("link_token_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "link_purpose",
            sa.Enum(
                "welcome",
                "reset",
                name="web_link_purpose",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("mfa_code_hash", sa.String(length=64), nullable=True),
        sa.Column(
            "mfa_expires_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("mfa_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "last_seen_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["login_id"],
            ["portal_login.id"],
            name=op.f("fk_portal_session_login_id_portal_login"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_session")),
    )
    with op.batch_alter_table("portal_session", schema=None) as batch_op:
        batch_op.create_index("ix_portal_session_last_seen", ["last_seen_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_session_login_id"), ["login_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_portal_session_link_token_hash"), ["link_token_hash"], unique=False
        )

    op.create_table(
        "portal_rate_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=100), nullable=False),
        sa.Column("at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_rate_event")),
    )
    with op.batch_alter_table("portal_rate_event", schema=None) as batch_op:
        batch_op.create_index("ix_portal_rate_event_bucket", ["bucket", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_portal_rate_event_at"), ["at"], unique=False)

    # A plain ADD COLUMN: a batch rebuild of payer would drop its search-index triggers.
    op.add_column(
        "payer", sa.Column("mfa_exempt", sa.Boolean(), server_default=sa.false(), nullable=False)
    )

    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_email_email_kind"), type_="check")
        batch_op.create_check_constraint("email_kind", _kind_check(NEW_KINDS))


def downgrade() -> None:
    op.execute("DELETE FROM outbox_email WHERE kind = 'sign_in_code'")
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_email_email_kind"), type_="check")
        batch_op.create_check_constraint("email_kind", _kind_check(OLD_KINDS))
    if op.get_bind().dialect.name == "sqlite":  # no rebuild (see upgrade): SQLite >= 3.35
        op.execute("ALTER TABLE payer DROP COLUMN mfa_exempt")
    else:
        op.drop_column("payer", "mfa_exempt")
    op.drop_table("portal_rate_event")
    op.drop_table("portal_session")
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_portal_login_sqlite(autoincrement=False)
