"""The access review's figures of a chunk of payers in one query equal the portal's and the
staff preview's figures of each payer on its own, whatever the associations and invoices."""

from __future__ import annotations

import random
from datetime import date

import pytest
from sqlalchemy import insert, select

from clientpay_tui.db.models import (
    Association,
    Client,
    IntegrationName,
    Invoice,
    InvoiceSource,
    Matter,
)
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.visible_invoices import (
    FIGURES_CAP,
    visible_figures,
    visible_figures_by_payer,
)

INTEGRATIONS = [
    frozenset(),
    frozenset({IntegrationName.CONNECT}),
    frozenset({IntegrationName.INVOICING}),
    frozenset({IntegrationName.CONNECT, IntegrationName.INVOICING}),
]


@pytest.fixture
def varied(services, admin, db, clock):
    """Clients with matters and invoices of every source, paid and open, some without a
    matter; one client past the cap; payers with overlapping associations at every level."""
    rng = random.Random(15)
    sources = list(InvoiceSource)
    invoice_rows, number = [], 0
    with db.write() as session:
        clients = []
        for c in range(6):
            client = Client(number=f"C{c}", number_key=f"c{c}", name=f"Client {c}", name_key="x")
            session.add(client)
            session.flush()
            matters = []
            for m in range(3):
                matter = Matter(
                    client_id=client.id,
                    number=f"C{c}-{m}",
                    number_key=f"c{c}-{m}",
                    description="d",
                    description_key="d",
                )
                session.add(matter)
                session.flush()
                matters.append(matter.id)
            clients.append((client.id, matters))
            many = FIGURES_CAP + 5 if c == 5 else 25
            for _ in range(many):
                number += 1
                invoice_rows.append(
                    {
                        "client_id": client.id,
                        "matter_id": rng.choice([*matters, None]),
                        "number": f"INV-{number}",
                        "number_key": f"inv-{number}",
                        "invoice_date": date(2026, 1, 1 + number % 28),
                        "amount_cents": 10_000,
                        "balance_cents": rng.choice([0, 0, 1, 2_500, 9_999]),
                        "source": rng.choice(sources),
                    }
                )
        session.execute(insert(Invoice), invoice_rows)
        invoices = list(session.execute(select(Invoice.id, Invoice.client_id, Invoice.matter_id)))
    payers = []
    for p in range(24):
        payer_id = services.payers.create(admin, PayerForm(name=f"Payer {p}")).id
        payers.append(payer_id)
        clients_of = rng.sample(clients, rng.choice([0, 0, 1, 2]))
        if p == 0:
            clients_of = [clients[5]]  # past the cap by a client
        matter_ids = rng.sample([m for _, ms in clients for m in ms], rng.choice([0, 1, 3]))
        invoice_ids = rng.sample(invoices, rng.choice([0, 2, 8]))
        if p == 1:  # past the cap by matters and invoices of the big client
            matter_ids = clients[5][1]
            invoice_ids = [row for row in invoices if row.client_id == clients[5][0]][:400]
        with db.write() as session:
            for client_id, _ in clients_of:
                session.add(_association(payer_id, clock, client_id=client_id))
            for matter_id in matter_ids:
                session.add(_association(payer_id, clock, matter_id=matter_id))
            for row in invoice_ids:
                session.add(_association(payer_id, clock, invoice_id=row.id))
    return payers


def _association(payer_id, clock, **target):
    return Association(payer_id=payer_id, created_by="test", created_at=clock.now, **target)


@pytest.mark.parametrize("cap", [None, FIGURES_CAP, 30])
def test_batched_figures_equal_each_payers_own(db, varied, cap):
    seen_capped = seen_open = seen_some = False
    with db.read() as session:
        for integrations in INTEGRATIONS:
            batched = visible_figures_by_payer(session, varied, integrations, cap=cap)
            assert list(batched) == varied
            for payer_id in varied:
                own = visible_figures(session, payer_id, integrations, cap=cap)
                assert batched[payer_id] == own, (payer_id, integrations)
                seen_capped |= own.capped
                seen_open |= bool(own.payable_cents)
                seen_some |= 0 < own.total < (cap or 10**9)
    # The data set reaches each case it is meant to compare.
    assert seen_open and seen_some
    assert seen_capped == (cap is not None)


def test_no_payers_and_payers_without_associations(services, admin, db):
    lone = services.payers.create(admin, PayerForm(name="Lone")).id
    connect = INTEGRATIONS[1]
    with db.read() as session:
        assert visible_figures_by_payer(session, [], connect) == {}
        assert visible_figures_by_payer(session, [lone], connect) == {
            lone: visible_figures(session, lone, connect)
        }
