"""What a signed-in payer sees and may pay: the Portal preview's rules, over every record."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import IntegrationName, Invoice
from clientpay_tui.errors import NotFound
from clientpay_tui.portal.overview import NOT_SHOWN, PayDecision
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.payers import PayerForm

from .conftest import GOOD_PASSWORD

HEADER = ",".join(
    (
        "client_number,client_name,matter_number,matter_description",
        "invoice_number,invoice_date,amount,balance,source",
    )
)
INVOICES = f"""{HEADER}
C1,Lovelace Engines,M1,Analytical engine,INV-1,2026-01-10,100.00,100.00,internal
C1,Lovelace Engines,M1,Analytical engine,INV-2,2026-01-11,50.00,50.00,connect
C2,Babbage & Co,M2,Difference engine,INV-3,2026-01-12,70.00,70.00,external
C2,Babbage & Co,M2,Difference engine,INV-4,2026-01-13,30.00,0.00,connect
C3,Someone Else,M3,Not hers,INV-5,2026-01-14,10.00,10.00,connect
"""


@pytest.fixture
def invoices(services, admin, tmp_path) -> dict[str, int]:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    services.imports.invoices(admin, path)
    with services.db.read() as session:
        rows = session.execute(select(Invoice.number, Invoice.id))
        return {number: invoice_id for number, invoice_id in rows}


def test_a_login_sees_what_each_of_its_records_covers(services, portal, active, admin, invoices):
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    first = active()
    second = services.payers.create(admin, PayerForm(name="Ada Ltd", email="ada@example.com"))
    services.access.grant(admin, second.id)
    services.associations.create(
        admin, first.payer_id, Level.INVOICE, Selection(frozenset({invoices["INV-1"]}))
    )
    services.associations.create(  # the whole client C1 and C2, through two invoices
        admin, second.id, Level.CLIENT, Selection(frozenset({invoices["INV-2"], invoices["INV-3"]}))
    )
    identity = portal.accounts.authenticate(first.email, GOOD_PASSWORD)

    view = portal.overview.view(identity.login_id)

    assert view.identity == identity
    assert view.records == [
        services.preview.portal_view(admin, first.payer_id),
        services.preview.portal_view(admin, second.id),
    ]
    seen = {i.invoice_number for record in view.records for i in record.invoices}
    assert seen == {"INV-1", "INV-2", "INV-3", "INV-4"}
    # INV-1 (internal) is not payable without invoicing; INV-2 is, once, though seen twice.
    assert view.payable_balance_cents == 5000

    def decide(login_id: int, invoice_id: int) -> tuple[bool, str]:
        return dataclasses.astuple(portal.overview.may_pay(login_id, invoice_id))

    assert decide(identity.login_id, invoices["INV-1"]) == (
        False,
        "Internal invoicing is not enabled",
    )
    assert decide(identity.login_id, invoices["INV-2"]) == (True, "Payable")
    assert decide(identity.login_id, invoices["INV-3"])[1].startswith("From an external")
    assert decide(identity.login_id, invoices["INV-4"]) == (False, "Paid")
    # Not hers, and not there at all, look the same.
    assert decide(identity.login_id, invoices["INV-5"]) == (False, NOT_SHOWN)
    assert decide(identity.login_id, 999_999) == (False, NOT_SHOWN)

    services.integrations.set_enabled(admin, IntegrationName.INVOICING, True)
    assert decide(identity.login_id, invoices["INV-1"]) == (True, "Payable")
    assert portal.overview.view(identity.login_id).payable_balance_cents == 15000


def test_without_integrations_a_payer_sees_no_invoices(services, portal, active, admin, invoices):
    payer = active()
    identity = portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
    view = portal.overview.view(identity.login_id)
    assert [record.shows_invoices for record in view.records] == [False]
    assert portal.overview.may_pay(identity.login_id, invoices["INV-2"]) == PayDecision(
        False, NOT_SHOWN
    )


def test_a_deleted_login_sees_nothing(services, portal, active, admin):
    payer = active()
    identity = portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
    services.access.delete_login(admin, payer.payer_id)
    with pytest.raises(NotFound):
        portal.overview.view(identity.login_id)
    with pytest.raises(NotFound):
        portal.overview.may_pay(identity.login_id, 1)
