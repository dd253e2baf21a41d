"""Wallets: tokenized through the gateway, only safe fields stored, audited, per login."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import AuditEvent
from clientpay_tui.db.payment_models import Wallet
from clientpay_tui.errors import NotFound, PaymentDeclined, PaymentsUnavailable
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.payments.cards import bank_details
from clientpay_tui.services.payments.wallets import WalletService

from .conftest import card


def _stored_text(services: Services) -> str:
    """Every wallet and audit value, as one string, to search for secrets."""
    with services.db.read() as session:
        wallets = [
            " ".join(str(getattr(w, c.key)) for c in Wallet.__table__.columns)
            for w in session.scalars(select(Wallet))
        ]
        events = [e.summary for e in session.scalars(select(AuditEvent))]
    return "\n".join(wallets + events)


def test_a_saved_card_keeps_only_token_brand_last4_expiry_and_holder(
    services, payer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    row = services.wallets.add_card(payer.login_id, card(month="7", year="2031"))
    assert (row.kind, row.brand, row.last4, row.expiry) == ("card", "Visa", "4242", "07/2031")
    assert (row.label, row.holder_name, row.is_default, row.usable) == (
        "Visa •••• 4242",
        "Ada Lovelace",
        True,
        True,
    )
    stored = _stored_text(services)
    assert "4242424242424242" not in stored and "123 " not in stored
    assert "4242424242424242" not in caplog.text
    assert "Saved Visa •••• 4242, expires 07/2031" in stored
    assert services.wallets.for_login(payer.login_id) == [row]
    assert services.wallets.for_payer(services_admin(services), payer.payer_id) == [row]


def services_admin(services: Services):
    from clientpay_tui.services.context import command_line_actor

    return command_line_actor("tester")


def test_a_declined_card_is_not_saved_and_the_error_holds_no_number(services, payer) -> None:
    with pytest.raises(PaymentDeclined) as error:
        services.wallets.add_card(payer.login_id, card("4111 1111 1111 1111"))
    assert "4111" not in str(error.value)
    assert services.wallets.for_login(payer.login_id) == []


def test_default_moves_and_removing_the_default_picks_the_oldest(services, payer) -> None:
    first = services.wallets.add_card(payer.login_id, card())
    bank = services.wallets.add_bank(
        payer.login_id, bank_details("110000000", "000123456789", "Ada Lovelace")
    )
    assert (bank.brand, bank.last4, bank.is_default, bank.expiry) == (
        "Test Bank",
        "6789",
        False,
        "",
    )
    services.wallets.set_default(payer.login_id, bank.id)
    assert [(w.id, w.is_default) for w in services.wallets.for_login(payer.login_id)] == [
        (bank.id, True),
        (first.id, False),
    ]
    services.wallets.remove(payer.login_id, bank.id)
    assert [(w.id, w.is_default) for w in services.wallets.for_login(payer.login_id)] == [
        (first.id, True)
    ]
    with services.db.read() as session:
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("wallet.%"))
                .order_by(AuditEvent.id)
            )
        )
    assert actions == ["wallet.add", "wallet.add", "wallet.default", "wallet.remove"]


def test_another_logins_wallet_cannot_be_touched(services, payer, admin) -> None:
    mine = services.wallets.add_card(payer.login_id, card())
    other = services.payers.create(admin, PayerForm(name="Eve", email="eve@example.com"))
    services.access.grant(admin, other.id)
    with services.db.read() as session:
        from clientpay_tui.db.models import Payer

        eve_login = session.get(Payer, other.id).login_id
    with pytest.raises(NotFound):
        services.wallets.remove(eve_login, mine.id)
    with pytest.raises(NotFound):
        services.wallets.set_default(eve_login, mine.id)
    assert services.wallets.for_login(eve_login) == []
    assert [w.id for w in services.wallets.for_login(payer.login_id)] == [mine.id]


def test_cards_expiring_within_30_days_are_flagged(services, payer, clock) -> None:
    # The clock is 2 March 2026: a card of 03/2026 works through 31 March.
    soon = services.wallets.add_card(payer.login_id, card(month="3", year="2026"))
    later = services.wallets.add_card(payer.login_id, card(month="5", year="2026"))
    assert (soon.expiring_soon, soon.expired) == (True, False)
    assert later.expiring_soon is False
    clock.advance(days=62)  # 3 May: 05/2026 works 28 more days
    rows = {w.id: w for w in services.wallets.for_login(payer.login_id)}
    assert rows[soon.id].expired and not rows[soon.id].expiring_soon
    assert rows[later.id].expiring_soon


def test_without_a_gateway_wallets_are_listed_but_not_added(db, settings, clock, payer) -> None:
    plain = WalletService(Services(db, settings, clock).ctx, None)
    with pytest.raises(PaymentsUnavailable):
        plain.add_card(payer.login_id, card())
    assert plain.for_login(payer.login_id) == []
