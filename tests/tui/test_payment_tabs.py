"""The payer details Wallets, Transactions and Activity tabs show what the portal recorded,
read-only and literally; the header says when the test gateway is in use."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from textual.widgets import Static, TabbedContent

from clientpay_tui.db.models import InvoiceSource, Payer
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payments.cards import card_details
from clientpay_tui.services.payments.gateway import TEST_MODE_NOTICE
from clientpay_tui.services.payments.paying import MethodChoice
from clientpay_tui.services.payments.testmode import TestGateway
from clientpay_tui.widgets.paged_table import PagedTable

from .conftest import connect, open_details, screen_text, until

TODAY = date(2026, 3, 2)


@pytest.fixture
def services(db, settings, clock) -> Services:
    return Services(db, settings, clock, gateway=TestGateway())


@pytest.fixture
def paid_payer(services, admin, add_payer, firm) -> int:
    """A payer who saved two cards in the portal (one expiring this month, its holder name
    looking like markup) and paid INV-7 with one."""
    connect(services, admin)
    invoice = firm.invoice("INV-7", amount=20_000, balance=20_000)
    payer_id = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer_id)
    services.associations.create(admin, payer_id, Level.INVOICE, Selection(frozenset({invoice.id})))
    with services.db.read() as session:
        login_id = session.scalar(select(Payer.login_id).where(Payer.id == payer_id))
    wallets = services.wallets
    card = wallets.add_card(
        login_id, card_details("4242424242424242", "12", "2030", "123", "Ada Lovelace", TODAY)
    )
    wallets.add_card(
        login_id, card_details("5555555555554444", "3", "2026", "123", "[bold red]X[/]", TODAY)
    )
    draft = services.payments.confirm(
        login_id, MethodChoice(wallet_id=card.id), invoice_ids=[invoice.id]
    )
    assert services.payments.pay(login_id, draft.idempotency_key).paid
    return payer_id


async def test_staff_see_the_portals_wallets_payments_and_activity(
    make_app, staff, paid_payer
) -> None:
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        assert TEST_MODE_NOTICE in app.title
        screen = await open_details(app, pilot, paid_payer)
        tabs = screen.query_one(TabbedContent)
        await pilot.press("4")
        await until(pilot, lambda: "Visa •••• 4242" in screen_text(app))
        shown = screen_text(app)
        assert tabs.active == "wallets-tab"
        assert "2 saved methods" in shown and "1 expiring within 30 days" in shown
        assert "Mastercard •••• 4444" in shown and "03/2026 soon" in shown
        assert "[bold red]X[/]" in shown  # the holder's name, literally
        await pilot.press("5")
        await until(pilot, lambda: "INV-7" in screen_text(app))
        shown = screen_text(app)
        assert "1 payment made in the portal" in shown
        assert "Visa •••• 4242" in shown and "200.00" in shown and "succeeded" in shown
        await pilot.press("6")
        await until(pilot, lambda: "Paid 200.00 of INV-7" in screen_text(app))
        assert "Saved Mastercard •••• 4444" in screen_text(app)


async def test_without_the_test_gateway_the_header_says_nothing_of_it(
    staff, db, settings, clock
) -> None:
    from clientpay_tui.app import ClientPayApp

    app = ClientPayApp(Services(db, settings, clock), actor=staff, handle_sighup=False)
    assert app.services is not None and app.services.gateway is None
    async with app.run_test(size=(80, 24)):
        assert TEST_MODE_NOTICE not in app.title


async def test_a_payment_made_in_the_portal_shows_on_the_staff_transactions_tab(
    make_app, staff, services, admin, add_payer, firm
) -> None:
    """The story end to end in one process: the payer pays a Connect invoice with the
    approving test card through the portal's pages, staff see it on the Transactions tab."""
    import re

    import httpx

    from clientpay_tui.portal import Portal
    from clientpay_tui.portal.web import create_app
    from tests.unit.portal.conftest import GOOD_PASSWORD, link_in
    from tests.unit.portal.web.conftest import csrf_of, sign_in

    connect(services, admin)
    invoice = firm.invoice("INV-9", amount=12_500, balance=12_500)
    external = firm.invoice("EXT-9", balance=800, source=InvoiceSource.EXTERNAL)
    payer_id = add_payer("Ada Lovelace", "ada@example.com")
    _purpose, token = link_in(services, services.access.grant(admin, payer_id).email_id)
    Portal(services, floor_seconds=0).links.accept_invitation(token, GOOD_PASSWORD, GOOD_PASSWORD)
    services.associations.create(admin, payer_id, Level.CLIENT, Selection(frozenset({invoice.id})))
    transport = httpx.ASGITransport(app=create_app(services, floor_seconds=0))
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as web:
        assert (await sign_in(web, "ada@example.com", GOOD_PASSWORD)).status_code == 303
        choose = await web.get("/pay")
        assert TEST_MODE_NOTICE in choose.text and f'value="{external.id}"' not in choose.text
        chosen = await web.post(
            "/pay",
            data={
                "csrf_token": csrf_of(choose),
                "mode": "invoices",
                "invoice": str(invoice.id),
                "method": "card",
                "card_number": "4242 4242 4242 4242",
                "exp_month": "12",
                "exp_year": "2030",
                "cvc": "123",
                "holder_name": "Ada Lovelace",
            },
        )
        confirm = await web.get(chosen.headers["location"])
        key = re.search(r'name="key" value="([^"]+)"', confirm.text)
        assert key, confirm.text
        paid = await web.post(
            "/pay/confirm", data={"csrf_token": csrf_of(confirm), "key": key.group(1)}
        )
        assert "Payment made" in (await web.get(paid.headers["location"])).text

    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer_id)
        await pilot.press("5")
        await until(pilot, lambda: "INV-9" in screen_text(app))
        shown = screen_text(app)
        assert "Visa •••• 4242" in shown and "125.00" in shown and "succeeded" in shown


async def test_the_line_under_a_tab_describes_the_highlighted_row(
    make_app, staff, paid_payer
) -> None:
    """Each tab's table shows the highlighted row in full below it, following the cursor;
    a holder's name that looks like markup stays literal there too."""
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, paid_payer)
        await pilot.press("4")
        pane = screen.query_one("#wallets-pane")
        table = pane.query_one(PagedTable)
        detail = pane.query_one(".pane-detail", Static)
        await until(pilot, lambda: table.highlighted is not None)
        table.focus()
        await pilot.pause()

        shown: dict[str, str] = {}

        def record() -> str:
            wallet = table.highlighted
            assert wallet is not None
            shown[wallet.label] = str(detail.content)
            return wallet.label

        await until(pilot, lambda: "holder" in str(detail.content))
        first = record()
        await pilot.press("down")
        second = record()
        assert {first, second} == {"Visa •••• 4242", "Mastercard •••• 4444"}
        assert shown["Visa •••• 4242"].startswith("Visa •••• 4242, card, holder Ada Lovelace.")
        assert shown["Mastercard •••• 4444"].startswith(
            "Mastercard •••• 4444, card, holder [bold red]X[/]."
        )
