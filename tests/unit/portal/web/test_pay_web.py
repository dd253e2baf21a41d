"""/pay, /wallets and /transactions through the ASGI app: test-mode banner, one charge per
confirmation, declines and errors change nothing, numbers never come back, external invoices
refused whatever is posted."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from clientpay_tui.db.models import IntegrationName, InvoiceSource
from clientpay_tui.db.payment_models import Transaction
from clientpay_tui.portal.web import create_app
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payments.testmode import TestGateway
from tests.unit.payments.conftest import balances
from tests.unit.portal.conftest import GOOD_PASSWORD
from tests.unit.portal.web.conftest import csrf_of, portal_settings, sign_in

BANNER = "Test mode: no money moves"
_KEY = re.compile(r"/pay/confirm\?key=([A-Za-z0-9_-]+)")


@dataclass
class Shop:
    web: httpx.AsyncClient
    gateway: TestGateway
    services: Services
    invoices: dict[str, int]


@pytest.fixture
async def shop(services, web_for, clock, active, admin, firm) -> Shop:
    """Ada signed in to a test-mode portal, seeing two Connect invoices and an external one."""
    gateway = TestGateway()
    settings = portal_settings(services, payment_gateway="test")
    paying = Services(services.db, settings, clock, gateway=gateway)
    web = web_for(app=create_app(paying, floor_seconds=0))
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    made = {
        "OLD": firm.invoice("OLD", day="2026-01-01", balance=6_000),
        "MID": firm.invoice("MID", day="2026-01-15", amount=20_000, balance=20_000),
        "EXT": firm.invoice("EXT", balance=7_000, source=InvoiceSource.EXTERNAL),
        "OTHER": firm.invoice("OTHER", client="C2", client_name="Else", matter="C2-1"),
    }
    ada = active()
    services.associations.create(
        admin, ada.payer_id, Level.CLIENT, Selection(frozenset({made["OLD"].id}))
    )
    signed = await sign_in(web, ada.email, GOOD_PASSWORD)
    assert signed.status_code == 303
    return Shop(web, gateway, paying, {n: i.id for n, i in made.items()})


async def _post(web: httpx.AsyncClient, page: str, action: str, data: dict) -> httpx.Response:
    token = csrf_of(await web.get(page))
    return await web.post(action, data={"csrf_token": token, **data})


async def _save_card(shop: Shop, number: str = "4242424242424242") -> int:
    saved = await _post(
        shop.web,
        "/wallets",
        "/wallets",
        {
            "kind": "card",
            "card_number": number,
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "holder_name": "Ada Lovelace",
        },
    )
    assert saved.status_code == 303, saved.text
    return shop.services.wallets.for_login(_login(shop))[-1].id


def _login(shop: Shop) -> int:
    from clientpay_tui.db.models import Payer

    with shop.services.db.read() as session:
        return session.scalars(select(Payer.login_id)).one()


async def _confirm(shop: Shop, data: dict) -> tuple[str, httpx.Response]:
    chosen = await _post(shop.web, "/pay", "/pay", data)
    assert chosen.status_code == 303, chosen.text
    key = _KEY.search(chosen.headers["location"])
    assert key
    page = await shop.web.get(chosen.headers["location"])
    assert page.status_code == 200 and key.group(1) in page.text
    return key.group(1), page


def _transactions(shop: Shop) -> int:
    with shop.services.db.read() as session:
        return int(session.scalar(select(func.count(Transaction.id))) or 0)


async def test_pay_with_a_saved_card_once_however_often_it_is_posted(shop: Shop) -> None:
    wallet_id = await _save_card(shop)
    choose = await shop.web.get("/pay")
    assert BANNER in choose.text
    assert f'value="{shop.invoices["MID"]}" checked' in choose.text  # payable: preselected
    assert f'value="{shop.invoices["EXT"]}"' not in choose.text  # external: not offered
    key, confirm = await _confirm(
        shop,
        {"mode": "invoices", "invoice": str(shop.invoices["MID"]), "method": f"wallet:{wallet_id}"},
    )
    assert BANNER in confirm.text and "Pay 200.00 now" in confirm.text
    token = csrf_of(confirm)

    paid = [
        await shop.web.post("/pay/confirm", data={"csrf_token": token, "key": key})
        for _ in range(3)
    ]

    assert {p.status_code for p in paid} == {303}
    assert {p.headers["location"] for p in paid} == {f"/pay/result?key={key}"}
    result = await shop.web.get(f"/pay/result?key={key}")
    assert "Payment made" in result.text and BANNER in result.text
    assert len(shop.gateway.charges) == 1
    assert balances(shop.services)["MID"] == 0
    again = await shop.web.get(f"/pay/confirm?key={key}")  # the back button: the outcome
    assert again.status_code == 303 and again.headers["location"] == f"/pay/result?key={key}"
    history = await shop.web.get("/transactions")
    assert BANNER in history.text
    assert "MID" in history.text and "Visa •••• 4242" in history.text and "200.00" in history.text


@pytest.mark.parametrize(
    ("number", "says"),
    [
        ("4000000000000002", "Your card was declined."),
        ("4000000000000119", "The card processor had an error"),
    ],
)
async def test_decline_and_error_cards_change_nothing(shop: Shop, number: str, says: str) -> None:
    before = balances(shop.services)
    key, confirm = await _confirm(
        shop,
        {
            "mode": "amount",
            "amount": "100.00",
            "method": "card",
            "card_number": number,
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
            "holder_name": "Ada",
        },
    )
    assert number not in confirm.text
    paid = await shop.web.post("/pay/confirm", data={"csrf_token": csrf_of(confirm), "key": key})
    result = await shop.web.get(paid.headers["location"])
    assert "Payment not made" in result.text and "Nothing was charged" in result.text
    assert says in result.text
    assert number not in result.text
    assert balances(shop.services) == before


async def test_an_external_or_unseen_invoice_posted_by_hand_is_refused(shop: Shop) -> None:
    wallet_id = await _save_card(shop)
    for number in ("EXT", "OTHER"):
        refused = await _post(
            shop.web,
            "/pay",
            "/pay",
            {
                "mode": "invoices",
                "invoice": str(shop.invoices[number]),
                "method": f"wallet:{wallet_id}",
            },
        )
        assert refused.status_code == 200
        assert "cannot be paid here" in refused.text or "not shown" in refused.text
    assert _transactions(shop) == 0
    assert balances(shop.services)["EXT"] == 7_000


async def test_a_card_number_never_comes_back_after_an_error(shop: Shop) -> None:
    bad = "4242424242424241"  # fails Luhn
    for page, data in (
        ("/wallets", {"kind": "card"}),
        ("/pay", {"mode": "invoices", "invoice": str(shop.invoices["OLD"]), "method": "card"}),
    ):
        answer = await _post(
            shop.web,
            page,
            page,
            {
                **data,
                "card_number": bad,
                "exp_month": "12",
                "exp_year": "2030",
                "cvc": "9876",
                "holder_name": "Ada Lovelace",
            },
        )
        assert answer.status_code == 200
        assert "card number is not valid" in answer.text
        assert bad not in answer.text and "9876" not in answer.text
        assert 'value="Ada Lovelace"' in answer.text  # the rest is kept
    real = await _post(  # a real card in a test-mode portal: refused, not saved
        shop.web,
        "/wallets",
        "/wallets",
        {
            "kind": "card",
            "card_number": "4111111111111111",
            "exp_month": "1",
            "exp_year": "2031",
            "cvc": "123",
            "holder_name": "Ada",
        },
    )
    assert "test card" in real.text and "4111111111111111" not in real.text
    assert shop.services.wallets.for_login(_login(shop)) == []


async def test_wallet_default_and_remove(shop: Shop) -> None:
    first = await _save_card(shop)
    second = await _save_card(shop, "5555555555554444")
    page = await shop.web.get("/wallets")
    assert BANNER in page.text and "Mastercard •••• 4444" in page.text
    made = await _post(shop.web, "/wallets", "/wallets/default", {"wallet_id": str(second)})
    assert made.status_code == 303
    rows = shop.services.wallets.for_login(_login(shop))
    assert [(w.id, w.is_default) for w in rows] == [(second, True), (first, False)]
    gone = await _post(shop.web, "/wallets", "/wallets/remove", {"wallet_id": str(second)})
    assert gone.status_code == 303
    assert [w.id for w in shop.services.wallets.for_login(_login(shop))] == [first]
    forged = await shop.web.post("/wallets/remove", data={"wallet_id": str(first)})
    assert forged.status_code == 403  # no CSRF token
    assert [w.id for w in shop.services.wallets.for_login(_login(shop))] == [first]


async def test_without_a_gateway_nothing_can_be_paid_or_saved(web, active) -> None:
    ada = active()
    await sign_in(web, ada.email, GOOD_PASSWORD)
    page = await web.get("/pay")
    assert "not set up" in page.text and BANNER not in page.text
    assert "Add a card" not in (await web.get("/wallets")).text


async def test_payment_pages_need_a_signed_in_payer(web_for) -> None:
    web = web_for()
    for path in ("/pay", "/wallets", "/transactions", "/pay/result?key=x"):
        answer = await web.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/login"


class _Unreachable(TestGateway):
    """A gateway that raises on its first charge (a timeout: the outcome is unknown)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def charge(self, token, amount_cents, idempotency_key, description):
        self.calls += 1
        if self.calls == 1:
            raise TimeoutError("no answer")
        return super().charge(token, amount_cents, idempotency_key, description)


async def test_a_gateway_that_does_not_answer_leaves_the_payment_in_progress_until_a_reload(
    services, web_for, clock, active, admin, firm
) -> None:
    gateway = _Unreachable()
    paying = Services(
        services.db, portal_settings(services, payment_gateway="test"), clock, gateway=gateway
    )
    web = web_for(app=create_app(paying, floor_seconds=0))
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    invoice = firm.invoice("ONE", balance=3_000)
    ada = active()
    services.associations.create(
        admin, ada.payer_id, Level.INVOICE, Selection(frozenset({invoice.id}))
    )
    await sign_in(web, ada.email, GOOD_PASSWORD)
    shop = Shop(web, gateway, paying, {"ONE": invoice.id})
    card = {
        "card_number": "4242424242424242",
        "exp_month": "12",
        "exp_year": "2030",
        "holder_name": "Ada",
    }
    key, confirm = await _confirm(
        shop,
        {"mode": "invoices", "invoice": str(invoice.id), "method": "card", "cvc": "123", **card},
    )
    paid = await web.post("/pay/confirm", data={"csrf_token": csrf_of(confirm), "key": key})
    first = await web.get(paid.headers["location"])
    assert "Payment in progress" in first.text and gateway.calls == 1
    assert balances(paying)["ONE"] == 0  # reserved meanwhile
    clock.advance(minutes=3)
    later = await web.get(paid.headers["location"])
    assert "Payment made" in later.text
    assert gateway.calls == 2 and len(gateway.charges) == 1
    assert balances(paying)["ONE"] == 0
