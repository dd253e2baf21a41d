"""payments through a gateway: tokenized wallets, transactions paying several invoices

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 11:00:00

- ``wallet`` keeps the gateway's token and what may be shown of a method (brand or bank, last
  4, expiry, holder); never a number or CVC. Existing labels (``Visa •••• 4242``) give brand
  and last 4; methods saved before gateways have no token and cannot pay.
- ``payment_transaction`` gains its method's label, a unique idempotency key, the gateway's
  reference, the reason of a refusal and refunds; its ``invoice_id`` moves to
  ``transaction_invoice`` (one transaction may pay several invoices, an amount each).
- ``outbox_email.kind`` gains ``receipt``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import clientpay_tui.db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("welcome", "reset", "access_added", "password_changed", "sign_in_code")
NEW_KINDS = (*OLD_KINDS, "receipt")
MASK = " •••• "


def _kind_check(kinds: Sequence[str]) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade() -> None:
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("gateway", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("brand", sa.String(length=60), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("last4", sa.String(length=4), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("exp_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("exp_year", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("holder_name", sa.String(length=200), server_default="", nullable=False)
        )

    op.create_table(
        "transaction_invoice",
        sa.Column("transaction_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_transaction_invoice_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["payment_transaction.id"],
            name=op.f("fk_transaction_invoice_transaction_id_payment_transaction"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "transaction_id", "invoice_id", name=op.f("pk_transaction_invoice")
        ),
    )
    with op.batch_alter_table("transaction_invoice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_transaction_invoice_invoice_id"), ["invoice_id"], unique=False
        )

    # Read before the table is rebuilt: on SQLite the rebuild drops payment_transaction, and
    # with foreign keys on that drop empties transaction_invoice (ON DELETE CASCADE).
    bind = op.get_bind()
    paid = [
        {"transaction_id": t, "invoice_id": i, "position": 0, "amount_cents": a}
        for t, i, a in bind.execute(
            sa.text(
                "SELECT id, invoice_id, amount_cents FROM payment_transaction "
                "WHERE invoice_id IS NOT NULL"
            )
        )
    ]
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("method_label", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("gateway", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("gateway_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("one_off_token", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
        batch_op.add_column(
            sa.Column("refunded_cents", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("refund_reference", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at", clientpay_tui.db.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_transaction_idempotency_key"), ["idempotency_key"]
        )
        batch_op.drop_constraint(
            op.f("fk_payment_transaction_invoice_id_invoice"), type_="foreignkey"
        )
        batch_op.drop_column("invoice_id")
    if paid:
        bind.execute(
            sa.text(
                "INSERT INTO transaction_invoice (transaction_id, invoice_id, position, "
                "amount_cents) VALUES (:transaction_id, :invoice_id, :position, :amount_cents)"
            ),
            paid,
        )

    _fill_labels()

    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_email_email_kind"), type_="check")
        batch_op.create_check_constraint("email_kind", _kind_check(NEW_KINDS))


def _fill_labels() -> None:
    """Brand and last 4 of existing wallets from their labels; transactions' method labels
    from their wallets."""
    bind = op.get_bind()
    wallets = bind.execute(sa.text("SELECT id, label FROM wallet")).all()
    for wallet_id, label in wallets:
        brand, _, last4 = str(label).partition(MASK)
        last4 = last4.strip()[-4:] if last4.strip().isdigit() else ""
        bind.execute(
            sa.text("UPDATE wallet SET brand = :brand, last4 = :last4 WHERE id = :id"),
            {"brand": brand.strip()[:60], "last4": last4, "id": wallet_id},
        )
    bind.execute(
        sa.text(
            "UPDATE payment_transaction SET method_label = (SELECT w.label FROM wallet w "
            "WHERE w.id = payment_transaction.wallet_id) WHERE wallet_id IS NOT NULL"
        )
    )


def downgrade() -> None:
    op.execute("DELETE FROM outbox_email WHERE kind = 'receipt'")
    with op.batch_alter_table("outbox_email", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_email_email_kind"), type_="check")
        batch_op.create_check_constraint("email_kind", _kind_check(OLD_KINDS))
    # A transaction of several invoices keeps its first one. Read before the rebuild (which
    # empties transaction_invoice on SQLite, see upgrade).
    bind = op.get_bind()
    first = [
        {"id": t, "invoice_id": i}
        for t, i in bind.execute(
            sa.text(
                "SELECT transaction_id, invoice_id FROM transaction_invoice ti WHERE position = "
                "(SELECT min(position) FROM transaction_invoice o "
                "WHERE o.transaction_id = ti.transaction_id)"
            )
        )
    ]
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invoice_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_payment_transaction_invoice_id_invoice"), "invoice", ["invoice_id"], ["id"]
        )
    if first:
        bind.execute(
            sa.text("UPDATE payment_transaction SET invoice_id = :invoice_id WHERE id = :id"),
            first,
        )
    with op.batch_alter_table("payment_transaction", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_payment_transaction_idempotency_key"), type_="unique"
        )
        for column in (
            "updated_at",
            "refund_reference",
            "refunded_cents",
            "reason",
            "one_off_token",
            "gateway_reference",
            "gateway",
            "idempotency_key",
            "method_label",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("transaction_invoice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transaction_invoice_invoice_id"))
    op.drop_table("transaction_invoice")
    # The SQLite rebuild of wallet sets payment_transaction.wallet_id to NULL (ON DELETE SET
    # NULL fires when the old table is dropped): put the links back.
    links = [
        {"id": t, "wallet_id": w}
        for t, w in bind.execute(
            sa.text("SELECT id, wallet_id FROM payment_transaction WHERE wallet_id IS NOT NULL")
        )
    ]
    with op.batch_alter_table("wallet", schema=None) as batch_op:
        for column in ("holder_name", "exp_year", "exp_month", "last4", "brand", "gateway"):
            batch_op.drop_column(column)
        batch_op.drop_column("token")
    if links:
        bind.execute(
            sa.text("UPDATE payment_transaction SET wallet_id = :wallet_id WHERE id = :id"), links
        )
