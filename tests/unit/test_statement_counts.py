"""The payer details screen's loads issue a bounded number of SQL statements, the same for a
payer with a handful of rows as for one with many (no N+1): counted with a
``before_cursor_execute`` listener on the engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import event

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Association, IntegrationName, InvoiceSource
from clientpay_tui.db.payment_models import Transaction, Wallet
from clientpay_tui.screens.payer_tabs import load_tabs
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services import audit
from clientpay_tui.services.candidates import CandidateFilter, CandidateSort
from clientpay_tui.services.payers import AccessStatus, PayerForm

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MOST_STATEMENTS = 24
"""What opening a payer may cost at most, whatever the payer holds (19 when written; 24 since
the Transactions tab pages payments with their invoices; BEGIN and COMMIT excluded)."""
ASSOCIATION_PAGE = 50


@contextmanager
def counted(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def open_payer(services, actor, payer_id: int) -> tuple[int, ...]:
    """What the details screen loads: the payer, then every read-only tab, and the first page
    of associations the tab's table reads. Returns how many rows each tab got."""
    assert services.payers.get(actor, payer_id).login is not None
    tabs = load_tabs(StaffSession(services, actor), payer_id, connect=True)
    assert tabs.associations is not None
    first_page = tabs.associations.fetch(0, ASSOCIATION_PAGE)
    assert len(first_page) == min(ASSOCIATION_PAGE, tabs.associations.total)
    preview = tabs.preview
    return (
        tabs.associations.total,
        preview.invoice_count,
        len(tabs.wallets),
        tabs.transactions.total,
        len(tabs.activity),
    )


def give(services, admin, firm, db, payer_id: int, n: int) -> None:
    """``n`` more of everything the tabs list: associations of each level (covering invoices),
    wallets, transactions and audit events."""
    made = []
    for k in range(n):
        tag = f"{payer_id}-{n}-{k}"
        whole = firm.invoice(f"C-{tag}", client=f"CL{tag}", matter=None)
        matter = firm.invoice(f"M-{tag}", client=f"CM{tag}", matter=f"CM{tag}-1")
        single = firm.invoice(f"I-{tag}", client=f"CI{tag}", source=InvoiceSource.INTERNAL)
        made.append((tag, whole, matter, single))
    with db.write() as session:
        for tag, whole, matter, single in made:
            for row in (
                Association(client_id=whole.client_id),
                Association(matter_id=matter.matter_id),
                Association(invoice_id=single.id),
            ):
                row.payer_id, row.created_by, row.created_at = payer_id, "t", NOW
                session.add(row)
            wallet = Wallet(payer_id=payer_id, kind="card", label=tag, created_at=NOW)
            session.add(wallet)
            session.flush()
            session.add(
                Transaction(
                    payer_id=payer_id,
                    wallet_id=wallet.id,
                    amount_cents=100,
                    status="settled",
                    description=tag,
                    created_at=NOW,
                )
            )
            audit.record(session, NOW, admin, "test.event", f"event {tag}", payer_id)


def test_opening_a_payer_costs_the_same_statements_for_few_and_many_rows(
    services, admin, firm, db
) -> None:
    for name in IntegrationName:
        services.integrations.set_enabled(admin, name, True)
    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com")).id
    services.access.grant(admin, payer)  # the login branch of the details too
    give(services, admin, firm, db, payer, 1)

    with counted(db) as few:
        assert open_payer(services, admin, payer) == (3, 3, 1, 1, 3)
    give(services, admin, firm, db, payer, 30)
    with counted(db) as many:
        assert open_payer(services, admin, payer) == (93, 93, 31, 31, 33)

    assert 0 < len(few) <= MOST_STATEMENTS, few
    assert len(many) == len(few), many


def test_a_candidate_search_plans_in_two_statements(services, admin, firm, db) -> None:
    """Searching the add-associations screen: the table sizes, every lookup's estimate (SQLite:
    and the invoice numbers' own full-text count), the page. It runs while the screen echoes
    the keys, when each round trip waits for the interpreter's lock (it was seven or eight)."""
    firm.invoice("INV-1", client_name="Ridge Maple Group")
    where = CandidateFilter(text="ridge maple")
    with counted(db) as page:
        rows = services.associations.candidates(admin, where, CandidateSort(), 0, 50)
    assert [row.client_name for row in rows] == ["Ridge Maple Group"]
    assert len(page) == (4 if db.is_sqlite else 3), page


def test_a_page_of_the_payer_list_reads_logins_with_its_payers(services, admin, db) -> None:
    """A name searched: the payers' highest id and the name index's own count (which size
    and choose how the page is read), the client-number probe, the page with each payer's
    login, the page's emails. The same for a page of one payer as for fifty, with and without
    logins (it read the logins in a statement of their own)."""
    first = services.payers.create(admin, PayerForm(name="Ada Ridge", email="ada@example.com"))
    with counted(db) as one:
        [row] = services.payers.search(admin, "ridge")
    assert row.status == AccessStatus.NONE
    for n in range(60):
        email = f"ridge{n}@example.com"
        payer = services.payers.create(admin, PayerForm(name=f"Ridge {n:02}", email=email))
        if n % 3 == 0:
            services.access.grant(admin, payer.id)
    services.access.grant(admin, first.id)
    with counted(db) as fifty:
        rows = services.payers.search(admin, "ridge")
    assert len(rows) == 50
    assert rows[0].name == "Ada Ridge" and rows[0].status == AccessStatus.INVITED
    assert {row.status for row in rows} == {AccessStatus.NONE, AccessStatus.INVITED}
    assert len(one) == len(fifty) == 5, fifty
