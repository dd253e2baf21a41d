"""Fixtures for payments: services on the test gateway, and a payer's login that sees
invoices of every source."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from clientpay_tui.config import Settings
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import IntegrationName, Invoice, InvoiceSource, Payer
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.payments.cards import card_details
from clientpay_tui.services.payments.gateway import CardDetails
from clientpay_tui.services.payments.testmode import TestGateway

APPROVE = "4242 4242 4242 4242"
DECLINE = "4000 0000 0000 0002"
ERROR = "4000 0000 0000 0119"


@pytest.fixture
def gateway() -> TestGateway:
    return TestGateway()


@pytest.fixture
def services(db: Database, settings: Settings, clock, gateway: TestGateway) -> Services:
    return Services(db, settings, clock, gateway=gateway)


def card(number: str = APPROVE, month: str = "12", year: str = "2030") -> CardDetails:
    from datetime import date

    return card_details(number, month, year, "123", "Ada Lovelace", date(2026, 3, 2))


@dataclass
class Payer_:
    payer_id: int
    login_id: int
    invoices: dict[str, int]


def balances(services: Services) -> dict[str, int]:
    with services.db.read() as session:
        return dict(session.execute(select(Invoice.number, Invoice.balance_cents)).all())


@pytest.fixture
def payer(services: Services, admin, firm) -> Payer_:
    """Ada, with a login, who sees four invoices of client C1 (two Connect, one internal,
    one external) and not the invoice of client C2."""
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    services.integrations.set_enabled(admin, IntegrationName.INVOICING, True)
    made = {
        "OLD": firm.invoice("OLD", day="2026-01-01", amount=10_000, balance=6_000),
        "MID": firm.invoice("MID", day="2026-01-15", amount=20_000, balance=20_000),
        "INT": firm.invoice(
            "INT", day="2026-02-01", balance=5_000, amount=5_000, source=InvoiceSource.INTERNAL
        ),
        "EXT": firm.invoice(
            "EXT", day="2025-12-01", balance=7_000, amount=7_000, source=InvoiceSource.EXTERNAL
        ),
        "PAID": firm.invoice("PAID", day="2025-11-01", balance=0),
        "OTHER": firm.invoice("OTHER", client="C2", client_name="Someone Else", matter="C2-1"),
    }
    record = services.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
    services.access.grant(admin, record.id)
    services.associations.create(
        admin, record.id, Level.CLIENT, Selection(frozenset({made["OLD"].id}))
    )
    with services.db.read() as session:
        login_id = session.scalar(select(Payer.login_id).where(Payer.id == record.id))
    assert login_id is not None
    return Payer_(record.id, login_id, {number: row.id for number, row in made.items()})
