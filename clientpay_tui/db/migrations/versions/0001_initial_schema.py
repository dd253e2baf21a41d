"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 12:54:47.069935
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clientpay_tui.db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The contains-search indexes as this revision created them, written out so that a later change
# to clientpay_tui.db.search_index cannot change what this old migration does.
SQLITE_SEARCH_INDEXES: tuple[str, ...] = (
    (
        "CREATE VIRTUAL TABLE payer_fts USING fts5(sort_name, email_key, content='payer', "
        "content_rowid='id', tokenize='trigram')"
    ),
    (
        "CREATE TRIGGER payer_fts_ai AFTER INSERT ON payer BEGIN INSERT INTO "
        "payer_fts(rowid, sort_name, email_key) VALUES (new.id, new.sort_name, "
        "new.email_key); END"
    ),
    (
        "CREATE TRIGGER payer_fts_ad AFTER DELETE ON payer BEGIN INSERT INTO "
        "payer_fts(payer_fts, rowid, sort_name, email_key) VALUES ('delete', old.id, "
        "old.sort_name, old.email_key); END"
    ),
    (
        "CREATE TRIGGER payer_fts_au AFTER UPDATE OF sort_name, email_key ON payer BEGIN "
        "INSERT INTO payer_fts(payer_fts, rowid, sort_name, email_key) VALUES ('delete', "
        "old.id, old.sort_name, old.email_key); INSERT INTO payer_fts(rowid, sort_name, "
        "email_key) VALUES (new.id, new.sort_name, new.email_key); END"
    ),
    "INSERT INTO payer_fts(payer_fts) VALUES ('rebuild')",
    (
        "CREATE VIRTUAL TABLE client_fts USING fts5(name_key, content='client', "
        "content_rowid='id', tokenize='trigram')"
    ),
    (
        "CREATE TRIGGER client_fts_ai AFTER INSERT ON client BEGIN INSERT INTO "
        "client_fts(rowid, name_key) VALUES (new.id, new.name_key); END"
    ),
    (
        "CREATE TRIGGER client_fts_ad AFTER DELETE ON client BEGIN INSERT INTO "
        "client_fts(client_fts, rowid, name_key) VALUES ('delete', old.id, old.name_key); "
        "END"
    ),
    (
        "CREATE TRIGGER client_fts_au AFTER UPDATE OF name_key ON client BEGIN INSERT "
        "INTO client_fts(client_fts, rowid, name_key) VALUES ('delete', old.id, "
        "old.name_key); INSERT INTO client_fts(rowid, name_key) VALUES (new.id, "
        "new.name_key); END"
    ),
    "INSERT INTO client_fts(client_fts) VALUES ('rebuild')",
    (
        "CREATE VIRTUAL TABLE matter_fts USING fts5(description_key, content='matter', "
        "content_rowid='id', tokenize='trigram')"
    ),
    (
        "CREATE TRIGGER matter_fts_ai AFTER INSERT ON matter BEGIN INSERT INTO "
        "matter_fts(rowid, description_key) VALUES (new.id, new.description_key); END"
    ),
    (
        "CREATE TRIGGER matter_fts_ad AFTER DELETE ON matter BEGIN INSERT INTO "
        "matter_fts(matter_fts, rowid, description_key) VALUES ('delete', old.id, "
        "old.description_key); END"
    ),
    (
        "CREATE TRIGGER matter_fts_au AFTER UPDATE OF description_key ON matter BEGIN "
        "INSERT INTO matter_fts(matter_fts, rowid, description_key) VALUES ('delete', "
        "old.id, old.description_key); INSERT INTO matter_fts(rowid, description_key) "
        "VALUES (new.id, new.description_key); END"
    ),
    "INSERT INTO matter_fts(matter_fts) VALUES ('rebuild')",
)
SQLITE_DROP_SEARCH_INDEXES: tuple[str, ...] = (
    "DROP TRIGGER IF EXISTS payer_fts_ai",
    "DROP TRIGGER IF EXISTS payer_fts_ad",
    "DROP TRIGGER IF EXISTS payer_fts_au",
    "DROP TABLE IF EXISTS payer_fts",
    "DROP TRIGGER IF EXISTS client_fts_ai",
    "DROP TRIGGER IF EXISTS client_fts_ad",
    "DROP TRIGGER IF EXISTS client_fts_au",
    "DROP TABLE IF EXISTS client_fts",
    "DROP TRIGGER IF EXISTS matter_fts_ai",
    "DROP TRIGGER IF EXISTS matter_fts_ad",
    "DROP TRIGGER IF EXISTS matter_fts_au",
    "DROP TABLE IF EXISTS matter_fts",
)
POSTGRESQL_SEARCH_INDEXES: tuple[str, ...] = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_payer_sort_name_trgm ON payer USING gin (sort_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_payer_email_key_trgm ON payer USING gin (email_key gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_client_name_key_trgm ON client USING gin (name_key gin_trgm_ops)",
    (
        "CREATE INDEX IF NOT EXISTS ix_matter_description_key_trgm ON matter USING gin "
        "(description_key gin_trgm_ops)"
    ),
)
POSTGRESQL_DROP_SEARCH_INDEXES: tuple[str, ...] = (
    "DROP INDEX IF EXISTS ix_payer_sort_name_trgm",
    "DROP INDEX IF EXISTS ix_payer_email_key_trgm",
    "DROP INDEX IF EXISTS ix_client_name_key_trgm",
    "DROP INDEX IF EXISTS ix_matter_description_key_trgm",
)


def _run(sqlite: tuple[str, ...], postgresql: tuple[str, ...]) -> None:
    connection = op.get_bind()
    statements = {"sqlite": sqlite, "postgresql": postgresql}.get(connection.dialect.name, ())
    for statement in statements:
        connection.exec_driver_sql(statement)


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_event_payer", ["payer_id", "at"], unique=False)

    op.create_table(
        "client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "number_key",
            sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "name_key",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client")),
        sa.UniqueConstraint("number_key", name=op.f("uq_client_number_key")),
    )
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_client_name_key"), ["name_key"], unique=False)

    op.create_table(
        "integration",
        sa.Column(
            "name",
            sa.Enum(
                "connect",
                "invoicing",
                name="integration_name",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_integration")),
    )
    op.create_table(
        "portal_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "email_key",
            sa.String(length=320).with_variant(sa.String(length=320, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "invited",
                "active",
                name="login_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "password_changed_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column(
            "last_sign_in_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "first_failed_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("locked_until", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_login")),
        sa.UniqueConstraint("email_key", name=op.f("uq_portal_login_email_key")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "agent",
                "staff",
                "admin",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "first_failed_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("locked_until", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "last_sign_in_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "access_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "welcome",
                "reset",
                name="token_purpose",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["login_id"],
            ["portal_login.id"],
            name=op.f("fk_access_token_login_id_portal_login"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_token_token_hash")),
    )
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.create_index(
            "ix_access_token_login_purpose", ["login_id", "purpose"], unique=False
        )

    op.create_table(
        "matter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "number_key",
            sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column(
            "description_key",
            sa.String(length=500).with_variant(sa.String(length=500, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_matter_client_id_client")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter")),
        sa.UniqueConstraint("client_id", "number_key", name=op.f("uq_matter_client_id_number_key")),
    )
    with op.batch_alter_table("matter", schema=None) as batch_op:
        batch_op.create_index("ix_matter_number_key", ["number_key"], unique=False)

    op.create_table(
        "payer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "sort_name",
            sa.String(length=200).with_variant(sa.String(length=200, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column(
            "email_key",
            sa.String(length=320).with_variant(sa.String(length=320, collation="C"), "postgresql"),
            nullable=True,
        ),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("login_id", sa.Integer(), nullable=True),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["login_id"],
            ["portal_login.id"],
            name=op.f("fk_payer_login_id_portal_login"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payer")),
    )
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.create_index("ix_payer_email_key", ["email_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_payer_login_id"), ["login_id"], unique=False)
        batch_op.create_index("ix_payer_sort", ["sort_name", "id"], unique=False)

    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column(
            "number_key",
            sa.String(length=40).with_variant(sa.String(length=40, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("balance_cents", sa.BigInteger(), nullable=False),
        sa.Column(
            "source",
            sa.Enum(
                "internal",
                "connect",
                "external",
                name="invoice_source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.CheckConstraint("balance_cents >= 0", name=op.f("ck_invoice_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_invoice_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"], ["matter.id"], name=op.f("fk_invoice_matter_id_matter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("number_key", name=op.f("uq_invoice_number_key")),
    )
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_client", ["client_id", "invoice_date"], unique=False)
        batch_op.create_index("ix_invoice_date", ["invoice_date", "id"], unique=False)
        batch_op.create_index("ix_invoice_matter", ["matter_id", "invoice_date"], unique=False)

    op.create_table(
        "outbox_email",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "welcome",
                "reset",
                "access_added",
                "password_changed",
                name="email_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("payer_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("to_name", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=True),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "failed",
                name="email_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("claimed_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payer_id"],
            ["payer.id"],
            name=op.f("fk_outbox_email_payer_id_payer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_email")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_email_message_id")),
    )
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_email_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_outbox_email_payer", ["payer_id", "created_at"], unique=False)

    op.create_table(
        "wallet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["payer.id"], name=op.f("fk_wallet_payer_id_payer"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet")),
    )
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wallet_payer_id"), ["payer_id"], unique=False)

    op.create_table(
        "association",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("matter_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(CASE WHEN client_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN matter_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN invoice_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_association_exactly_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_association_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_association_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["matter_id"], ["matter.id"], name=op.f("fk_association_matter_id_matter")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"],
            ["payer.id"],
            name=op.f("fk_association_payer_id_payer"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_association")),
        sa.UniqueConstraint(
            "payer_id", "client_id", name=op.f("uq_association_payer_id_client_id")
        ),
        sa.UniqueConstraint(
            "payer_id", "invoice_id", name=op.f("uq_association_payer_id_invoice_id")
        ),
        sa.UniqueConstraint(
            "payer_id", "matter_id", name=op.f("uq_association_payer_id_matter_id")
        ),
    )
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_association_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_association_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_association_matter_id"), ["matter_id"], unique=False)

    op.create_table(
        "payment_transaction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("wallet_id", sa.Integer(), nullable=True),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("created_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_payment_transaction_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"],
            ["payer.id"],
            name=op.f("fk_payment_transaction_payer_id_payer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"],
            ["wallet.id"],
            name=op.f("fk_payment_transaction_wallet_id_wallet"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_transaction")),
    )
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_transaction_payer", ["payer_id", "created_at"], unique=False
        )

    # ### end Alembic commands ###
    _run(SQLITE_SEARCH_INDEXES, POSTGRESQL_SEARCH_INDEXES)


def downgrade() -> None:
    _run(SQLITE_DROP_SEARCH_INDEXES, POSTGRESQL_DROP_SEARCH_INDEXES)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_transaction_payer")

    op.drop_table("payment_transaction")
    with op.batch_alter_table("association", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_association_matter_id"))
        batch_op.drop_index(batch_op.f("ix_association_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_association_client_id"))

    op.drop_table("association")
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wallet_payer_id"))

    op.drop_table("wallet")
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_email_payer")
        batch_op.drop_index("ix_outbox_email_due")

    op.drop_table("outbox_email")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_matter")
        batch_op.drop_index("ix_invoice_date")
        batch_op.drop_index("ix_invoice_client")

    op.drop_table("invoice")
    with op.batch_alter_table("payer", schema=None) as batch_op:
        batch_op.drop_index("ix_payer_sort")
        batch_op.drop_index(batch_op.f("ix_payer_login_id"))
        batch_op.drop_index("ix_payer_email_key")

    op.drop_table("payer")
    with op.batch_alter_table("matter", schema=None) as batch_op:
        batch_op.drop_index("ix_matter_number_key")

    op.drop_table("matter")
    with op.batch_alter_table("access_token", schema=None) as batch_op:
        batch_op.drop_index("ix_access_token_login_purpose")

    op.drop_table("access_token")
    op.drop_table("staff")
    op.drop_table("portal_login")
    op.drop_table("integration")
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_client_name_key"))

    op.drop_table("client")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_payer")
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))

    op.drop_table("audit_event")
    # ### end Alembic commands ###
