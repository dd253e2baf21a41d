"""Portal preview: what a payer sees, what they may pay and why."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clientpay_tui.db.models import Association, IntegrationName, InvoiceSource
from clientpay_tui.db.payment_models import Transaction, Wallet
from clientpay_tui.errors import NotFound
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.preview import NO_INTEGRATION, payability, portal_view

ALL = frozenset(IntegrationName)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source", "balance", "integrations", "expected"),
    [
        (InvoiceSource.CONNECT, 100, ALL, (True, "Payable")),
        (InvoiceSource.INTERNAL, 100, ALL, (True, "Payable")),
        (InvoiceSource.CONNECT, 0, ALL, (False, "Paid")),
        (
            InvoiceSource.EXTERNAL,
            100,
            ALL,
            (False, "From an external system: paid outside the portal"),
        ),
        (
            InvoiceSource.INTERNAL,
            100,
            frozenset({IntegrationName.CONNECT}),
            (False, "Internal invoicing is not enabled"),
        ),
        (
            InvoiceSource.CONNECT,
            100,
            frozenset({IntegrationName.INVOICING}),
            (False, "The Connect integration is not enabled"),
        ),
    ],
)
def test_payability_rules(source, balance, integrations, expected):
    assert payability(source, balance, integrations) == expected


@pytest.fixture
def payer_id(services, admin, firm, db):
    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com")).id
    connect = firm.invoice(
        "CN-1", client="C1", day="2026-01-01", balance=1_000, source=InvoiceSource.CONNECT
    )
    firm.invoice(
        "IN-1", client="C1", day="2026-01-02", balance=2_500, source=InvoiceSource.INTERNAL
    )
    firm.invoice("EX-1", client="C1", day="2026-01-03", balance=700, source=InvoiceSource.EXTERNAL)
    firm.invoice("PD-1", client="C1", day="2026-01-04", balance=0, source=InvoiceSource.CONNECT)
    firm.invoice("OTHER", client="C2", balance=9_999)  # not associated: never visible
    with db.write() as session:
        session.add(
            Association(payer_id=payer, client_id=connect.client_id, created_by="t", created_at=NOW)
        )
        wallet = Wallet(
            payer_id=payer, kind="card", label="Visa 4242", is_default=True, created_at=NOW
        )
        session.add(wallet)
        session.flush()
        session.add(
            Transaction(
                payer_id=payer,
                wallet_id=wallet.id,
                amount_cents=500,
                status="settled",
                description="Part payment",
                created_at=NOW,
                method_label="Visa 4242",
            )
        )
    return payer


def _by_number(view):
    return {i.invoice_number: (i.payable, i.reason) for i in view.invoices}


def test_without_integrations_only_wallets_and_transactions(services, admin, payer_id):
    view = services.preview.portal_view(admin, payer_id)
    assert not view.shows_invoices
    assert view.summary == NO_INTEGRATION
    assert (view.invoices, view.invoice_count, view.payable_balance_cents) == ([], 0, 0)
    assert [w.label for w in services.wallets.for_payer(admin, payer_id)] == ["Visa 4242"]
    payments, total = services.payments.for_payer(admin, payer_id)
    assert total == 1
    assert [(p.description, p.method_label, p.amount_cents) for p in payments] == [
        ("Part payment", "Visa 4242", 500)
    ]


def test_with_connect_associations_decide(services, admin, payer_id):
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    view = services.preview.portal_view(admin, payer_id)
    assert view.shows_invoices and view.invoice_count == 4
    assert _by_number(view) == {
        "CN-1": (True, "Payable"),
        "IN-1": (False, "Internal invoicing is not enabled"),
        "EX-1": (False, "From an external system: paid outside the portal"),
        "PD-1": (False, "Paid"),
    }
    assert [i.invoice_number for i in view.invoices] == ["PD-1", "EX-1", "IN-1", "CN-1"]
    assert view.payable_balance_cents == 1_000
    assert view.summary == "4 invoices visible; 10.00 payable now."


def test_with_invoicing_only_internal_invoices_are_listed(services, admin, payer_id):
    services.integrations.set_enabled(admin, IntegrationName.INVOICING, True)
    view = services.preview.portal_view(admin, payer_id)
    assert _by_number(view) == {"IN-1": (True, "Payable")}
    assert view.payable_balance_cents == 2_500


def test_with_both_integrations(services, admin, payer_id):
    for name in IntegrationName:
        services.integrations.set_enabled(admin, name, True)
    view = services.preview.portal_view(admin, payer_id)
    assert view.payable_balance_cents == 3_500
    assert _by_number(view)["IN-1"] == (True, "Payable")


def test_no_associations_says_so(services, admin):
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    lonely = services.payers.create(admin, PayerForm(name="Lonely")).id
    view = services.preview.portal_view(admin, lonely)
    assert view.invoices == [] and "add associations" in view.summary


def test_missing_payer(services, admin):
    with pytest.raises(NotFound):
        services.preview.portal_view(admin, 404)


@pytest.mark.parametrize(
    "enabled",
    [{IntegrationName.CONNECT}, {IntegrationName.INVOICING}, set(IntegrationName)],
    ids=["connect", "invoicing", "both"],
)
def test_page_of_many_visible_invoices_walks_the_dates_and_finds_the_same(
    services, admin, firm, db, enabled
):
    """A payer who sees most of the firm's invoices gets the page by walking the date order
    (count^2 >= limit * invoices); the page is the one gathering all of them would give."""
    payer = services.payers.create(admin, PayerForm(name="Many")).id
    for name in enabled:
        services.integrations.set_enabled(admin, name, True)
    source = (InvoiceSource.INTERNAL, InvoiceSource.CONNECT, InvoiceSource.EXTERNAL)
    by_client = [
        firm.invoice(
            f"A-{n}", client="C1", matter=None, day=f"2026-01-{n + 1:02d}", source=source[n % 3]
        )
        for n in range(4)
    ]
    by_matter = [
        firm.invoice(
            f"M-{n}", client="C2", matter="C2-001", day=f"2026-01-{n + 1:02d}", source=source[n % 3]
        )
        for n in range(4)
    ]
    single = firm.invoice(
        "I-1", client="C3", matter="C3-001", day="2026-01-03", source=InvoiceSource.INTERNAL
    )
    firm.invoice("NOT-MINE", client="C4", day="2026-02-01", source=InvoiceSource.INTERNAL)
    with db.write() as session:
        for row in (
            Association(client_id=by_client[0].client_id),
            Association(matter_id=by_matter[0].matter_id),
            Association(invoice_id=single.id),
        ):
            row.payer_id, row.created_by, row.created_at = payer, "t", NOW
            session.add(row)

    with db.read() as session:
        everything = portal_view(session, payer, invoice_limit=50)  # 9^2 < 50 * 10: gathered
        walked = portal_view(session, payer, invoice_limit=2)  # 5^2 >= 2 * 10: walked
    visible = [i.invoice_number for i in everything.invoices]
    expected = 9 if IntegrationName.CONNECT in enabled else 5  # internal ones only
    assert len(visible) == everything.invoice_count == walked.invoice_count == expected
    assert "NOT-MINE" not in visible
    assert [i.invoice_number for i in walked.invoices] == visible[:2]
    assert walked.payable_balance_cents == everything.payable_balance_cents
