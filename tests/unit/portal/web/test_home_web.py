"""``/``: the payer's names and firm, a page of their invoices with the reason each is payable
or not, Pay Invoices only when something is payable, pager links; plain HTML."""

from __future__ import annotations

import re
from datetime import date, timedelta

from clientpay_tui.db.models import Client, IntegrationName, Invoice, InvoiceSource, Matter
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.payers import PayerForm
from tests.unit.portal.conftest import GOOD_PASSWORD
from tests.unit.portal.web.conftest import sign_in

ROW = re.compile(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<th scope=\"row\">(.*?)</th>", re.S)


def _client_with_invoices(db, number: str, name: str, count: int, source: InvoiceSource) -> int:
    """A client with one matter and ``count`` invoices dated one a day from 2026-01-01."""
    with db.write() as session:
        client = Client(number=number, number_key=number.casefold(), name=name, name_key=name)
        session.add(client)
        session.flush()
        matter = Matter(
            client_id=client.id,
            number=f"{number}-M",
            number_key=f"{number}-m".casefold(),
            description="Lease <review>",
            description_key="lease <review>",
        )
        session.add(matter)
        session.flush()
        for n in range(count):
            session.add(
                Invoice(
                    client_id=client.id,
                    matter_id=matter.id,
                    number=f"{number}-INV-{n:03d}",
                    number_key=f"{number}-inv-{n:03d}".casefold(),
                    invoice_date=date(2026, 1, 1) + timedelta(days=n),
                    amount_cents=12_345,
                    balance_cents=12_345 if n % 2 else 0,
                    source=source,
                )
            )
        session.flush()
        first = session.query(Invoice.id).filter(Invoice.client_id == client.id).first()
        assert first is not None
        return int(first[0])


def _give(services, admin, payer_id: int, invoice_id: int) -> None:
    services.associations.create(admin, payer_id, Level.CLIENT, Selection(frozenset({invoice_id})))


async def test_not_signed_in_goes_to_the_sign_in_page(web) -> None:
    answer = await web.get("/")
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


async def test_home_lists_the_payers_invoices_payable_or_not(
    web, services, admin, db, active
) -> None:
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    payer = active()
    second = services.payers.create(admin, PayerForm(name="Ada & Co", email=payer.email))
    services.access.grant(admin, second.id)
    connect = _client_with_invoices(db, "C1", "<b>Lovelace</b>", 3, InvoiceSource.CONNECT)
    external = _client_with_invoices(db, "C2", "Babbage", 2, InvoiceSource.EXTERNAL)
    _client_with_invoices(db, "C9", "Not hers", 2, InvoiceSource.CONNECT)
    _give(services, admin, payer.payer_id, connect)
    _give(services, admin, second.id, external)
    await sign_in(web, payer.email, GOOD_PASSWORD)

    page = (await web.get("/")).text

    assert "Ada Lovelace, Ada &amp; Co · Test &amp; Partners" in page
    rows = ROW.findall(page)
    assert [number for _c, _m, number in rows] == [
        "C1-INV-002",
        "C2-INV-001",
        "C1-INV-001",
        "C2-INV-000",
        "C1-INV-000",
    ]
    # Text from the database is escaped, never markup.
    assert rows[0][0] == "C1 &lt;b&gt;Lovelace&lt;/b&gt;" and "<b>Lovelace" not in page
    assert rows[0][1] == "C1-M Lease &lt;review&gt;"
    assert '<time datetime="2026-01-03">2026-01-03</time>' in page
    assert '<td class="num">123.45</td>' in page
    assert "No: From an external system: paid outside the portal" in page
    assert "No: Paid" in page and "<strong>Yes</strong>" in page
    assert '<a class="button" href="/pay">Pay Invoices</a>' in page
    assert "123.45 payable now." in page  # C1-INV-001 is the only open Connect invoice
    assert "Invoices 1 to 5 of 5, newest first." in page
    assert "manage your wallets" not in page and 'rel="next"' not in page


async def test_nothing_payable_offers_wallets_and_history(web, services, admin, db, active) -> None:
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    payer = active()
    _give(
        services,
        admin,
        payer.payer_id,
        _client_with_invoices(db, "C2", "Babbage", 2, InvoiceSource.EXTERNAL),
    )
    await sign_in(web, payer.email, GOOD_PASSWORD)

    page = (await web.get("/")).text

    assert "You can manage your wallets and view your transaction history." in page
    assert 'href="/wallets"' in page and 'href="/transactions"' in page
    assert 'href="/pay"' not in page
    assert len(ROW.findall(page)) == 2


async def test_without_integrations_no_invoices_are_shown(web, services, admin, db, active) -> None:
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    payer = active()
    _give(
        services,
        admin,
        payer.payer_id,
        _client_with_invoices(db, "C1", "Lovelace", 2, InvoiceSource.CONNECT),
    )
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, False)
    await sign_in(web, payer.email, GOOD_PASSWORD)
    page = (await web.get("/")).text
    assert "Invoices are not shown in this portal." in page
    assert "You can manage your wallets" in page and not ROW.findall(page)


async def test_pages_of_fifty_with_links_both_ways(web, services, admin, db, active) -> None:
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    payer = active()
    _give(
        services,
        admin,
        payer.payer_id,
        _client_with_invoices(db, "C1", "Lovelace", 120, InvoiceSource.CONNECT),
    )
    await sign_in(web, payer.email, GOOD_PASSWORD)

    first, second, third = [(await web.get(f"/?page={n}")).text for n in (1, 2, 3)]

    numbers = [[n for _c, _m, n in ROW.findall(p)] for p in (first, second, third)]
    assert [len(n) for n in numbers] == [50, 50, 20]
    assert numbers[0][0] == "C1-INV-119" and numbers[2][-1] == "C1-INV-000"
    assert len({n for page in numbers for n in page}) == 120
    assert 'href="/?page=2" rel="next"' in first and 'rel="prev"' not in first
    assert 'href="/?page=1" rel="prev"' in second and 'href="/?page=3" rel="next"' in second
    assert 'href="/?page=2" rel="prev"' in third and 'rel="next"' not in third
    assert "Invoices 101 to 120 of 120, newest first." in third
    # Anything that is not a page number is the first page; past the end, a way back.
    for odd in ("0", "-1", "abc", "99999999999999999999"):
        assert ROW.findall((await web.get(f"/?page={odd}")).text) == ROW.findall(first)
    beyond = (await web.get("/?page=9")).text
    assert "No invoices on this page." in beyond and 'href="/?page=1" rel="prev"' in beyond
