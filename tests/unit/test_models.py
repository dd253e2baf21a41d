"""Storage rules: SQLite pragmas, integer cents, aware UTC times, constraints."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import (
    Association,
    AuditEvent,
    Client,
    Invoice,
    InvoiceSource,
    Matter,
    Payer,
)


def _client_and_invoice(db: Database, *, amount: int = 1_000, balance: int = 0) -> int:
    with db.write() as session:
        client = Client(number="C1", number_key="c1", name="Acme", name_key="acme")
        session.add(client)
        session.flush()
        invoice = Invoice(
            client_id=client.id,
            number="INV-1",
            number_key="inv-1",
            invoice_date=date(2026, 1, 31),
            amount_cents=amount,
            balance_cents=balance,
            source=InvoiceSource.CONNECT,
        )
        session.add(invoice)
        session.flush()
        return invoice.id


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        schema.ensure_current(db)
        with db.read() as session:
            assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        with pytest.raises(IntegrityError), db.write() as session:
            session.add(
                Matter(
                    client_id=999,
                    number="M",
                    number_key="m",
                    description="x",
                    description_key="x",
                )
            )
    finally:
        db.dispose()


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(
            Matter(client_id=424242, number="M", number_key="m", description="", description_key="")
        )


def test_money_columns_are_integers_and_round_trip_exactly(db: Database) -> None:
    big = 12_345_678_901_23  # 123 billion and 23 cents: beyond 32 bits
    invoice_id = _client_and_invoice(db, amount=big, balance=big - 1)
    with db.read() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None
        assert (invoice.amount_cents, invoice.balance_cents) == (big, big - 1)
        assert type(invoice.amount_cents) is int
    with db.engine.connect() as connection:
        columns = {c["name"]: c["type"] for c in inspect(connection).get_columns("invoice")}
    for name in ("amount_cents", "balance_cents"):
        assert columns[name].python_type is int


def test_negative_balance_is_refused_by_the_database(db: Database) -> None:
    with pytest.raises(IntegrityError):
        _client_and_invoice(db, amount=100, balance=-1)


def test_aware_times_come_back_aware_in_utc(db: Database) -> None:
    paris_winter = timezone(timedelta(hours=1))
    local = datetime(2026, 3, 2, 10, 30, 15, 123456, tzinfo=paris_winter)
    with db.write() as session:
        session.add(AuditEvent(at=local, actor="t", action="test", summary="s"))
    with db.read() as session:
        stored = session.scalars(select(AuditEvent.at)).one()
    assert stored == local
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.replace(tzinfo=None) == datetime(2026, 3, 2, 9, 30, 15, 123456)


def test_naive_times_are_refused(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"), db.write() as session:
        session.add(AuditEvent(at=datetime(2026, 3, 2, 9, 30), actor="t", action="x", summary=""))
    with db.read() as session:
        assert session.scalar(select(AuditEvent.id)) is None


def test_association_needs_exactly_one_target(db: Database) -> None:
    invoice_id = _client_and_invoice(db)
    now = datetime.now(UTC)
    with db.write() as session:
        payer = Payer(name="P", sort_name="p", created_at=now, updated_at=now)
        session.add(payer)
        session.flush()
        payer_id = payer.id
        client_id = session.scalar(select(Client.id))
    for targets in ({}, {"client_id": client_id, "invoice_id": invoice_id}):
        with pytest.raises(IntegrityError), db.write() as session:
            session.add(Association(payer_id=payer_id, created_by="t", created_at=now, **targets))
    with db.write() as session:
        session.add(
            Association(payer_id=payer_id, invoice_id=invoice_id, created_by="t", created_at=now)
        )
    with pytest.raises(IntegrityError), db.write() as session:
        session.add(
            Association(payer_id=payer_id, invoice_id=invoice_id, created_by="t", created_at=now)
        )
