"""The paged read behind the portal's home page and the staff app's Portal preview: one service,
so the two cannot disagree; a login sees every record's invoices once; figures are capped."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import IntegrationName, Invoice, InvoiceSource
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.visible_invoices import (
    invoice_page,
    payability,
    payable_condition,
)

from .conftest import GOOD_PASSWORD


def _associate(services, admin, payer_id: int, level: Level, *invoices: Invoice) -> None:
    selection = Selection(frozenset(i.id for i in invoices))
    services.associations.create(admin, payer_id, level, selection)


def _numbers(page) -> list[str]:
    return [i.invoice_number for i in page.invoices]


@pytest.mark.parametrize(
    "enabled",
    [frozenset(c) for n in range(3) for c in itertools.combinations(IntegrationName, n)],
    ids=lambda e: "+".join(sorted(e)) or "none",
)
def test_payable_in_sql_is_payability_in_python(db, firm, enabled):
    """The figures' SQL rule and the per-invoice rule agree on every source and balance."""
    for n, (source, balance) in enumerate(itertools.product(InvoiceSource, (0, 1, 500))):
        firm.invoice(f"P-{n}", source=source, balance=balance, amount=max(balance, 1))
    with db.read() as session:
        in_sql = set(session.scalars(select(Invoice.number).where(payable_condition(enabled))))
        unindexed = payable_condition(enabled, use_indexes=False)  # the payments' walk
        walked = set(session.scalars(select(Invoice.number).where(unindexed)))
        rows = session.scalars(select(Invoice)).all()
        in_python = {i.number for i in rows if payability(i.source, i.balance_cents, enabled)[0]}
    assert in_sql == in_python == walked


@pytest.fixture
def story(services, admin, firm, portal, active):
    """One address, two payer records with overlapping associations (client, matter and
    invoice levels), plus invoices nobody associated."""
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    made = {}
    for n in range(6):  # client C1: associated as a whole on the first record
        made[f"C1-{n}"] = firm.invoice(
            f"C1-{n}", client="C1", matter="C1-M", day=f"2026-01-{n + 1:02d}"
        )
    for n in range(4):  # matter C2-A: associated on the second record
        made[f"C2A-{n}"] = firm.invoice(
            f"C2A-{n}",
            client="C2",
            matter="C2-A",
            day=f"2026-02-{n + 1:02d}",
            source=InvoiceSource.EXTERNAL,
        )
    made["C2B-0"] = firm.invoice("C2B-0", client="C2", matter="C2-B", day="2026-02-10")
    made["C2B-1"] = firm.invoice("C2B-1", client="C2", matter="C2-B", day="2026-02-11")
    made["C3-0"] = firm.invoice("C3-0", client="C3", matter=None, day="2026-01-20", balance=0)
    made["OTHER"] = firm.invoice("OTHER", client="C9", day="2026-03-01")
    first = active()
    second = services.payers.create(admin, PayerForm(name="Ada Ltd", email="ada@example.com"))
    services.access.grant(admin, second.id)
    _associate(services, admin, first.payer_id, Level.CLIENT, made["C1-0"])
    _associate(services, admin, first.payer_id, Level.INVOICE, made["C1-3"], made["C2B-0"])
    _associate(services, admin, second.id, Level.MATTER, made["C2A-0"])
    _associate(services, admin, second.id, Level.INVOICE, made["C1-3"], made["C2B-0"])
    _associate(services, admin, second.id, Level.INVOICE, made["C2A-1"], made["C3-0"])
    # Added after the associations: a client or matter association covers it too.
    made["C1-late"] = firm.invoice("C1-late", client="C1", matter="C1-M", day="2026-03-05")
    made["C2A-late"] = firm.invoice(
        "C2A-late", client="C2", matter="C2-A", day="2026-03-04", source=InvoiceSource.EXTERNAL
    )
    identity = portal.accounts.authenticate(first.email, GOOD_PASSWORD)
    return identity, first.payer_id, second.id, made


def test_a_login_sees_each_covered_invoice_once_newest_first(portal, story):
    identity, _first, _second, made = story
    home = portal.overview.home(identity.login_id, limit=100)

    assert home.identity == identity
    assert home.names == ("Ada Lovelace", "Ada Ltd")
    expected = sorted(
        (i for name, i in made.items() if name not in ("OTHER", "C2B-1")),
        key=lambda i: (i.invoice_date, i.id),
        reverse=True,
    )
    assert _numbers(home.page) == [i.number for i in expected]
    assert home.page.total == len(expected) == 14 and not home.page.figures.capped
    # Payable: Connect invoices with a balance (C1-*, C1-late, C2B-0); not the external
    # C2A-* nor the paid C3-0. 10,000 cents each.
    assert home.page.payable_total_cents == 8 * 10_000 and home.page.any_payable
    reasons = {i.invoice_number: (i.payable, i.reason) for i in home.page.invoices}
    assert reasons["C2A-late"] == (False, "From an external system: paid outside the portal")
    assert reasons["C3-0"] == (False, "Paid")
    assert reasons["C1-late"] == (True, "Payable")
    c2b = next(i for i in home.page.invoices if i.invoice_number == "C2B-0")
    assert (c2b.client_number, c2b.matter_number, c2b.amount_cents) == ("C2", "C2-B", 10_000)


def test_pages_follow_on_and_make_up_the_whole_list(portal, story):
    identity = story[0]
    whole = _numbers(portal.overview.home(identity.login_id, limit=100).page)
    pages = [portal.overview.home(identity.login_id, offset, 4).page for offset in (0, 4, 8, 12)]
    assert [n for page in pages for n in _numbers(page)] == whole
    assert [(p.has_previous, p.has_next, len(p.invoices)) for p in pages] == [
        (False, True, 4),
        (True, True, 4),
        (True, True, 4),
        (True, False, 2),
    ]
    assert {p.total for p in pages} == {14}


def test_staff_preview_page_is_the_portal_home_page(services, admin, portal, story):
    """For a login of one record, the staff app's Portal preview reads the same pages."""
    identity, first, second, _made = story
    services.access.delete_login(admin, second)  # the login now covers the first record only
    for offset, limit in ((0, 5), (5, 5), (10, 5), (0, 50)):
        staff = services.preview.invoice_page(admin, first, offset, limit)
        payer = portal.overview.home(identity.login_id, offset, limit).page
        assert staff == payer
        assert staff.invoices or offset >= staff.total
    whole = services.preview.invoice_page(admin, first, 0, 50)
    assert whole.total == 8  # C1 (6 + late) and C2B-0, nothing of the second record
    assert services.preview.portal_view(admin, first).invoices == whole.invoices


def test_figures_stop_at_the_cap(services, admin, db, portal, story):
    identity, _first, _second, _made = story
    home = portal.overview.home(identity.login_id, limit=3, figures_cap=5)
    figures = home.page.figures
    assert figures.capped and figures.total == 5 and figures.payable_cents is None
    assert figures.any_payable and home.page.has_next and len(home.page.invoices) == 3
    assert home.page.summary == "More than 5 invoices visible; some payable now."
    # The walk through the date order finds the same first page as gathering them all.
    assert home.page.invoices == portal.overview.home(identity.login_id, limit=3).page.invoices

    with db.write() as session:  # nothing payable any more: every visible balance paid
        for invoice in session.scalars(select(Invoice)):
            invoice.balance_cents = 0
    capped = portal.overview.home(identity.login_id, limit=3, figures_cap=5).page
    assert capped.figures.capped and not capped.any_payable
    exact = portal.overview.home(identity.login_id, limit=3).page
    assert (exact.payable_total_cents, exact.any_payable) == (0, False)


def test_without_integrations_no_invoices_and_nothing_payable(services, admin, db, portal, story):
    identity = story[0]
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, False)
    page = portal.overview.home(identity.login_id).page
    assert (page.shows_invoices, page.invoices, page.total, page.any_payable) == (
        False,
        [],
        0,
        False,
    )
    services.integrations.set_enabled(admin, IntegrationName.INVOICING, True)
    page = portal.overview.home(identity.login_id).page
    assert page.shows_invoices and page.total == 0  # every invoice here is Connect or external
    with db.read() as session:
        integrations = enabled_integrations(session)
        assert invoice_page(session, (), integrations).total == 0  # a login with no record
