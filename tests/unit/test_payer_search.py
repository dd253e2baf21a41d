"""The payer list's pages and counts equal a plain-Python oracle over the tables, for broad
searches (answered by walking the name order) and narrow ones (answered by the index) alike,
including payers found through a client number among payers found by name."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import Association, Client, Invoice, Matter, Payer
from clientpay_tui.seeding.seed import seed
from clientpay_tui.services import validation
from clientpay_tui.services.payer_search import BROAD_MATCH_MIN


def oracle(services, text: str) -> list[int]:
    """Every matching payer id in name order, computed in Python."""
    key = validation.search_key(text)
    with services.db.read() as session:
        numbers = dict(session.execute(select(Client.id, Client.number_key)).all())
        matter_client = dict(session.execute(select(Matter.id, Matter.client_id)).all())
        invoice_client = dict(session.execute(select(Invoice.id, Invoice.client_id)).all())
        by_client = set()
        for payer_id, client, matter, invoice in session.execute(
            select(
                Association.payer_id,
                Association.client_id,
                Association.matter_id,
                Association.invoice_id,
            )
        ):
            owner = client or matter_client.get(matter) or invoice_client.get(invoice)
            if numbers[owner].startswith(key):
                by_client.add(payer_id)
        payers = session.execute(
            select(Payer.id, Payer.sort_name, Payer.email_key).order_by(Payer.sort_name, Payer.id)
        ).all()
    return [
        pid
        for pid, name, email in payers
        if key in name or key in (email or "") or pid in by_client
    ]


@pytest.fixture
def many_payers(services, admin):
    # Enough payers that broad searches match more than BROAD_MATCH_MIN (the walk) and
    # narrow ones fewer (the index).
    seed(services.ctx, admin, payers=BROAD_MATCH_MIN * 2 + 600, invoices=3_000)
    return services


@pytest.mark.parametrize(
    "text", ["a", "ad", "example.com", "C0", "c00001", "Smith", "zz", "q", "zoe", "nadia"]
)
def test_first_page_is_exactly_the_first_matches(many_payers, admin, text):
    services = many_payers
    expected = oracle(services, text)
    for limit in (10, 50):
        page = [row.id for row in services.payers.search(admin, text, 0, limit)]
        assert page == expected[:limit], text
    second = [row.id for row in services.payers.search(admin, text, 50, 50)]
    assert second == expected[50:100]
    assert services.payers.count(admin, text) == (min(len(expected), 10_000), False)


def test_a_page_is_walked_in_name_order_only_when_its_matches_lie_early(
    many_payers, admin, db, clock
):
    """A first name sorts together: "zoe" is a few payers near the end of the name order, "zz
    late" many that all sort after everyone else. Walking the name index reached them only
    after reading nearly every payer (50 ms on PostgreSQL, 100 ms on SQLite at 100,000), so
    those are gathered and sorted (the page's order is then written so that no index serves
    it), as are those of text too short to count that lie there too ("zz"); matches spread
    through the order ("example.com", "a") are walked for a page. Every page equals the
    oracle's."""
    from sqlalchemy import event, insert

    now = clock()
    names = [f"Zz Late {n:04}" for n in range(BROAD_MATCH_MIN + 100)]
    with db.write() as session:
        session.execute(
            insert(Payer),
            [
                {
                    "name": name,
                    "sort_name": validation.search_key(name),
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for name in names
            ],
        )
    orders: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT payer.id, payer.name"):
            orders.append(statement.split("ORDER BY", 1)[1].split("LIMIT")[0].strip())

    texts = ("zoe", "zz late", "zz", "example.com", "a")
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        pages = {text: many_payers.payers.search(admin, text, 0, 50) for text in texts}
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    for text, page in pages.items():
        assert [row.id for row in page] == oracle(many_payers, text)[:50], text
    few, late, late_short, spread, short = orders
    for sorted_order in (few, late, late_short):
        assert sorted_order.startswith("payer.sort_name || "), sorted_order
        assert ", payer.id + " in sorted_order, sorted_order
    assert spread == short == "payer.sort_name, payer.id", orders


def test_a_client_number_match_keeps_its_place_among_text_matches(
    many_payers, admin, add_client_payer
):
    # "an" is in many names; this payer has no "an" but a client numbered AN-1.
    payer = add_client_payer("Aaa Early Payer", "AN-1")
    expected = oracle(many_payers, "an")
    assert expected[0] == payer
    assert [row.id for row in many_payers.payers.search(admin, "an", 0, 10)] == expected[:10]


def test_few_client_number_matches_and_few_name_matches_are_merged_in_name_order(
    many_payers, admin, add_client_payer
):
    # Both sides narrow: each gathered through its own index, then sorted together.
    from clientpay_tui.services.payers import PayerForm

    by_client = add_client_payer("Zed Client Side", "XQZ-1")
    by_name = many_payers.payers.create(admin, PayerForm(name="Bob Xqz")).id
    by_email = many_payers.payers.create(admin, PayerForm(name="Mia", email="m@xqz.example")).id
    expected = oracle(many_payers, "xqz")
    assert expected == [by_name, by_email, by_client]
    assert [row.id for row in many_payers.payers.search(admin, "xqz")] == expected
    assert [row.id for row in many_payers.payers.search(admin, "xqz", 1, 1)] == [by_email]
    assert many_payers.payers.count(admin, "xqz") == (3, False)


@pytest.fixture
def add_client_payer(many_payers, admin, clock):
    def add(name: str, client_number: str) -> int:
        from clientpay_tui.services.payers import PayerForm

        payer = many_payers.payers.create(admin, PayerForm(name=name)).id
        with many_payers.db.write() as session:
            client = Client(
                number=client_number,
                number_key=client_number.casefold(),
                name="Client",
                name_key="client",
            )
            session.add(client)
            session.flush()
            session.add(
                Association(
                    payer_id=payer, client_id=client.id, created_by="test", created_at=clock()
                )
            )
        return payer

    return add


def test_a_row_reads_its_latest_access_email_and_its_last_sending(services, admin):
    """The list's status reads the payer's latest welcome or reset email (a failed re-send:
    "Email failed"); "Last email sent" is the latest email sent of any kind."""
    from datetime import UTC, datetime, timedelta

    from clientpay_tui.db.models import EmailKind, EmailStatus, OutboxEmail
    from clientpay_tui.services.payers import AccessStatus, PayerForm

    ada = services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com")).id
    bea = services.payers.create(admin, PayerForm(name="Bea", email="bea@example.com")).id
    services.access.grant(admin, ada)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def email(kind: EmailKind, status: EmailStatus, minutes: int, sent: bool) -> OutboxEmail:
        at = start + timedelta(minutes=minutes)
        return OutboxEmail(
            kind=kind, payer_id=ada, to_address="ada@example.com", to_name="Ada",
            subject=str(kind), message_id=f"<{kind}-{minutes}@test>", status=status,
            attempts=1, next_attempt_at=at, requested_by="t", created_at=at,
            sent_at=at if sent else None,
        )  # fmt: skip

    with services.db.write() as session:
        session.add(email(EmailKind.RECEIPT, EmailStatus.SENT, 60, sent=True))
        session.add(email(EmailKind.RESET, EmailStatus.FAILED, 30, sent=False))
    rows = {row.id: row for row in services.payers.search(admin, "")}
    assert rows[ada].last_email_at == start + timedelta(minutes=60)  # the receipt
    assert rows[ada].status == AccessStatus.EMAIL_FAILED  # the reset, newer than the welcome
    assert rows[bea].last_email_at is None and rows[bea].status == AccessStatus.NONE
