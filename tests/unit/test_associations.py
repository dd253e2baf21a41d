"""Associations at invoice, matter and client level; select-all; coverage; removal."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from clientpay_tui.db.models import Association, AuditEvent, IntegrationName, InvoiceSource
from clientpay_tui.errors import AccessStateError, NotFound, ValidationFailed
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.candidates import CandidateFilter
from clientpay_tui.services.payers import PayerForm


@pytest.fixture
def connect(services, admin):
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)


@pytest.fixture
def payer_id(services, admin):
    return services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com")).id


@pytest.fixture
def book(firm):
    """Two clients; Acme has two matters and an invoice without a matter."""
    return {
        "a1": firm.invoice("A-1", client="C001", matter="C001-01", description="Lease review"),
        "a2": firm.invoice("A-2", client="C001", matter="C001-01", description="Lease review"),
        "a3": firm.invoice("A-3", client="C001", matter="C001-02", description="Tax planning"),
        "a4": firm.invoice("A-4", client="C001", matter=None),
        "b1": firm.invoice(
            "B-1", client="C002", client_name="Birch LLC", matter="C002-01", description="Audit"
        ),
    }


def _ids(*invoices):
    return Selection(invoice_ids=frozenset(i.id for i in invoices))


def _associations(db, payer_id):
    with db.read() as session:
        return sorted(
            (a.client_id, a.matter_id, a.invoice_id)
            for a in session.scalars(select(Association).where(Association.payer_id == payer_id))
        )


def test_invoice_level_skips_duplicates(services, admin, db, connect, payer_id, book):
    first = services.associations.create(
        admin, payer_id, Level.INVOICE, _ids(book["a1"], book["a3"])
    )
    assert (first.created, first.skipped) == (2, 0)
    assert first.message() == "Created 2 invoice associations."

    again = services.associations.create(
        admin, payer_id, Level.INVOICE, _ids(book["a1"], book["b1"])
    )
    assert (again.created, again.skipped) == (1, 1)
    assert again.message() == "Created 1 invoice association; skipped 1 already covered."
    assert _associations(db, payer_id) == sorted(
        (None, None, book[k].id) for k in ("a1", "a3", "b1")
    )


def test_matter_level_covers_each_matter_once(services, admin, db, connect, payer_id, book):
    result = services.associations.create(
        admin, payer_id, Level.MATTER, _ids(book["a1"], book["a2"], book["a3"], book["a4"])
    )
    assert result.created == 2  # C001-01 (twice selected) and C001-02
    assert result.skipped == 1  # A-4 has no matter
    assert _associations(db, payer_id) == sorted(
        [(None, book["a1"].matter_id, None), (None, book["a3"].matter_id, None)]
    )


def test_client_level(services, admin, db, connect, payer_id, book):
    result = services.associations.create(
        admin, payer_id, Level.CLIENT, _ids(book["a1"], book["a4"], book["b1"])
    )
    assert (result.created, result.skipped) == (2, 0)
    again = services.associations.create(admin, payer_id, Level.CLIENT, _ids(book["a2"]))
    assert (again.created, again.skipped) == (0, 1)


def test_targets_already_covered_by_a_wider_association_are_skipped(
    services, admin, db, connect, payer_id, book
):
    services.associations.create(admin, payer_id, Level.MATTER, _ids(book["a1"]))
    by_invoice = services.associations.create(
        admin, payer_id, Level.INVOICE, _ids(book["a2"], book["a3"])
    )
    assert (by_invoice.created, by_invoice.skipped) == (1, 1)  # A-2 is under matter C001-01

    services.associations.create(admin, payer_id, Level.CLIENT, _ids(book["b1"]))
    by_matter = services.associations.create(admin, payer_id, Level.MATTER, _ids(book["b1"]))
    assert (by_matter.created, by_matter.skipped) == (0, 1)  # client C002 already covers it
    covered = services.associations.create(admin, payer_id, Level.INVOICE, _ids(book["b1"]))
    assert (covered.created, covered.skipped) == (0, 1)


def test_select_all_with_exclusions(services, admin, db, connect, payer_id, book):
    selection = Selection(
        matching=CandidateFilter(client="acme"), excluded=frozenset({book["a2"].id})
    )
    result = services.associations.create(admin, payer_id, Level.INVOICE, selection)
    assert result.created == 3
    assert _associations(db, payer_id) == sorted(
        (None, None, book[k].id) for k in ("a1", "a3", "a4")
    )


def test_select_all_covers_every_page_not_only_the_rows_shown(
    services, admin, db, connect, payer_id, firm
):
    for i in range(130):
        firm.invoice(f"W-{i:03d}", client=f"K{i % 4}", client_name="Wide Co", matter=None)
    firm.invoice("N-1", client="Z1", client_name="Narrow Ltd", matter=None)
    wide = CandidateFilter(text="wide")
    page = services.associations.candidates(admin, wide, offset=0, limit=50)
    assert len(page) == 50
    result = services.associations.create(
        admin,
        payer_id,
        Level.INVOICE,
        Selection(matching=wide, excluded=frozenset({page[0].invoice_id})),
    )
    assert (result.created, result.skipped) == (129, 0)
    made = _associations(db, payer_id)
    assert len(made) == 129 and (None, None, page[0].invoice_id) not in made
    again = services.associations.create(
        admin, payer_id, Level.INVOICE, Selection(matching=CandidateFilter())
    )
    assert (again.created, again.skipped) == (2, 129)  # the excluded one and N-1


def test_select_all_at_client_level_is_one_row_per_client(
    services, admin, db, connect, payer_id, book
):
    result = services.associations.create(
        admin, payer_id, Level.CLIENT, Selection(matching=CandidateFilter())
    )
    assert result.created == 2
    assert {a[0] for a in _associations(db, payer_id)} == {
        book["a1"].client_id,
        book["b1"].client_id,
    }


def test_later_invoices_are_covered_by_matter_and_client_associations(
    services, admin, db, connect, payer_id, book, firm
):
    services.associations.create(admin, payer_id, Level.MATTER, _ids(book["a1"]))
    services.associations.create(admin, payer_id, Level.CLIENT, _ids(book["b1"]))
    later_matter = firm.invoice("A-9", client="C001", matter="C001-01", balance=500)
    later_client = firm.invoice("B-9", client="C002", matter="C002-77", description="New")
    elsewhere = firm.invoice("A-10", client="C001", matter="C001-02")

    rows = {
        r.invoice_number: r
        for r in services.associations.candidates(admin, CandidateFilter(), payer_id=payer_id)
    }
    assert rows["A-9"].covered and rows["B-9"].covered
    assert not rows["A-10"].covered
    visible = {i.invoice_id for i in services.preview.portal_view(admin, payer_id).invoices}
    assert {later_matter.id, later_client.id} <= visible and elsewhere.id not in visible

    listed = {r.level: r for r in services.associations.for_payer(admin, payer_id)}
    assert listed[Level.MATTER].invoice_count == 3  # and the later A-9
    assert listed[Level.MATTER].open_balance_cents == 10_000 * 2 + 500
    assert listed[Level.CLIENT].invoice_count == 2
    assert listed[Level.CLIENT].target == "Client C002 Birch LLC"


def test_for_payer_describes_each_level(services, admin, connect, payer_id, book):
    services.associations.create(admin, payer_id, Level.INVOICE, _ids(book["a4"]))
    services.associations.create(admin, payer_id, Level.MATTER, _ids(book["a3"]))
    rows = services.associations.for_payer(admin, payer_id)
    targets = sorted(r.target for r in rows)
    assert targets == ["Invoice A-4", "Matter C001-02 Tax planning"]
    invoice_row = next(r for r in rows if r.level == Level.INVOICE)
    assert (invoice_row.client_number, invoice_row.matter_number) == ("C001", None)
    assert invoice_row.created_by == admin.username


def test_remove(services, admin, db, connect, payer_id, book):
    services.associations.create(admin, payer_id, Level.MATTER, _ids(book["a1"]))
    [row] = services.associations.for_payer(admin, payer_id)

    assert services.associations.remove(admin, payer_id, row.id) == "Matter C001-01 Lease review"

    assert _associations(db, payer_id) == []
    with db.read() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.payer_id == payer_id)
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["payer.create", "association.create", "association.remove"]
    with pytest.raises(NotFound):
        services.associations.remove(admin, payer_id, row.id)


def test_remove_checks_the_association_belongs_to_the_payer(
    services, admin, db, connect, payer_id, book
):
    other = services.payers.create(admin, PayerForm(name="Other")).id
    services.associations.create(admin, other, Level.INVOICE, _ids(book["a1"]))
    [row] = services.associations.for_payer(admin, other)
    with pytest.raises(NotFound):
        services.associations.remove(admin, payer_id, row.id)
    assert len(_associations(db, other)) == 1


def test_needs_connect_a_selection_and_a_payer(services, admin, db, payer_id, book):
    with pytest.raises(AccessStateError, match="Connect"):
        services.associations.create(admin, payer_id, Level.INVOICE, _ids(book["a1"]))
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    with pytest.raises(ValidationFailed, match="Select at least one"):
        services.associations.create(admin, payer_id, Level.INVOICE, Selection())
    with pytest.raises(NotFound):
        services.associations.create(admin, 999, Level.INVOICE, _ids(book["a1"]))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Association)) == 0


def test_a_large_explicit_selection_is_chunked(services, admin, db, connect, payer_id, firm):
    invoices = [firm.invoice(f"N-{i:05d}", matter=None) for i in range(3)]
    ids = frozenset(i.id for i in invoices) | frozenset(range(10_000, 22_000))  # unknown ids too
    result = services.associations.create(
        admin, payer_id, Level.INVOICE, Selection(invoice_ids=ids)
    )
    assert result.created == 3


def test_source_does_not_limit_associations(services, admin, connect, payer_id, firm):
    external = firm.invoice("X-1", source=InvoiceSource.EXTERNAL)
    result = services.associations.create(admin, payer_id, Level.INVOICE, _ids(external))
    assert result.created == 1


def test_the_tab_reads_associations_a_page_at_a_time_newest_first(
    services, admin, connect, payer_id, book
):
    services.associations.create(admin, payer_id, Level.CLIENT, _ids(book["b1"]))
    services.associations.create(admin, payer_id, Level.INVOICE, _ids(book["a4"]))
    services.associations.create(admin, payer_id, Level.MATTER, _ids(book["a1"], book["a3"]))
    everything = services.associations.for_payer(admin, payer_id)
    assert services.associations.count_for_payer(admin, payer_id) == len(everything) == 4
    assert [r.id for r in everything] == sorted((r.id for r in everything), reverse=True)
    assert everything[-1].target == "Client C002 Birch LLC"  # the first one made

    pages = [services.associations.for_payer(admin, payer_id, offset, 3) for offset in (0, 3, 6)]
    assert [len(page) for page in pages] == [3, 1, 0]
    assert [row for page in pages for row in page] == everything  # coverage counted per page too
    other = services.payers.create(admin, PayerForm(name="Nobody")).id
    assert services.associations.count_for_payer(admin, other) == 0
    assert services.associations.for_payer(admin, other, 0, 50) == []
