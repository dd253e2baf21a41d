"""The gateway interface, card checks and the test gateway's documented behaviour."""

from __future__ import annotations

from datetime import date

import pytest

from clientpay_tui.config import load_settings
from clientpay_tui.errors import ConfigError, ValidationFailed
from clientpay_tui.services.payments.cards import bank_details, card_brand, card_details, luhn_ok
from clientpay_tui.services.payments.gateway import (
    Approved,
    Declined,
    GatewayFailed,
    MethodKind,
    PaymentGateway,
    Tokenized,
    gateway_for,
)
from clientpay_tui.services.payments.testmode import TEST_CARDS, TestGateway

TODAY = date(2026, 3, 2)


def test_every_documented_test_card_passes_luhn_and_is_named_by_its_brand() -> None:
    for number, (brand, _outcome) in TEST_CARDS.items():
        assert luhn_ok(number)
        assert card_brand(number) == brand
    assert not luhn_ok("4242424242424241")


@pytest.mark.parametrize(
    ("number", "month", "year", "cvc", "message"),
    [
        ("4242 4242 4242 4241", "12", "2030", "123", "card number"),
        ("4242", "12", "2030", "123", "card number"),
        ("4242-4242-4242-4242", "13", "2030", "123", "expiry"),
        ("4242424242424242", "02", "2026", "123", "expired"),
        ("4242424242424242", "12", "30", "12", "CVC"),
    ],
)
def test_a_bad_card_is_refused_naming_the_field_never_the_number(
    number: str, month: str, year: str, cvc: str, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=message) as error:
        card_details(number, month, year, cvc, "Ada", TODAY)
    digits = number.replace(" ", "").replace("-", "")
    assert digits not in str(error.value)
    assert cvc not in str(error.value).split()


def test_card_details_never_print_the_number_or_cvc() -> None:
    card = card_details("4242 4242 4242 4242", "3", "26", "987", "Ada", TODAY)
    assert (card.number, card.exp_month, card.exp_year) == ("4242424242424242", 3, 2026)
    assert "4242424242424242" not in repr(card)
    assert "987" not in repr(card)
    bank = bank_details("110000000", "000123456789", "Ada")
    assert "000123456789" not in repr(bank)


def test_a_bank_account_needs_a_valid_routing_number() -> None:
    with pytest.raises(ValidationFailed, match="routing"):
        bank_details("110000001", "000123456789", "Ada")
    with pytest.raises(ValidationFailed, match="account number"):
        bank_details("110000000", "12", "Ada")


def test_the_test_gateway_approves_declines_and_fails_by_test_card() -> None:
    gateway = TestGateway()
    assert isinstance(gateway, PaymentGateway)
    outcomes = {}
    for number in ("4242424242424242", "4000000000000002", "4000000000009995", "4000000000000119"):
        method = gateway.tokenize_card(card_details(number, "12", "2030", "123", "A", TODAY))
        assert isinstance(method, Tokenized)
        assert method.kind == MethodKind.CARD and method.last4 == number[-4:]
        assert number not in method.token
        outcomes[number] = gateway.charge(method.token, 1_000, f"key-{number}", "test")
    assert isinstance(outcomes["4242424242424242"], Approved)
    assert outcomes["4000000000000002"] == Declined("Your card was declined.")
    assert outcomes["4000000000009995"] == Declined("Your card has insufficient funds.")
    assert isinstance(outcomes["4000000000000119"], GatewayFailed)


def test_one_idempotency_key_charges_once() -> None:
    gateway = TestGateway()
    method = gateway.tokenize_card(
        card_details("4242424242424242", "12", "2030", "123", "A", TODAY)
    )
    assert isinstance(method, Tokenized)
    first = gateway.charge(method.token, 1_000, "same", "x")
    again = gateway.charge(method.token, 1_000, "same", "x")
    assert first == again and isinstance(first, Approved)
    assert len(gateway.charges) == 1
    assert isinstance(gateway.charge(method.token, 2_000, "same", "x"), Declined)
    refund = gateway.refund(first.reference, 1_000, "refund-1")
    assert isinstance(refund, Approved)
    assert gateway.refund(first.reference, 1_000, "refund-1") == refund


def test_real_looking_cards_and_accounts_are_refused_in_test_mode() -> None:
    gateway = TestGateway()
    real = gateway.tokenize_card(card_details("4111111111111111", "12", "2030", "123", "A", TODAY))
    assert isinstance(real, Declined) and "test card" in real.reason
    bank = gateway.tokenize_bank(bank_details("110000000", "000123456789", "Ada"))
    assert isinstance(bank, Tokenized) and bank.kind == MethodKind.BANK
    assert isinstance(gateway.charge(bank.token, 500, "bank", "x"), Approved)
    closed = gateway.tokenize_bank(bank_details("110000000", "000111111116", "Ada"))
    assert isinstance(closed, Tokenized)
    assert gateway.charge(closed.token, 500, "closed", "x") == Declined(
        "The bank account is closed."
    )
    other = gateway.tokenize_bank(bank_details("021000021", "000123456789", "Ada"))
    assert isinstance(other, Declined)


def test_the_setting_chooses_the_gateway() -> None:
    assert load_settings().payment_gateway == "none"
    assert gateway_for(load_settings()) is None
    assert isinstance(gateway_for(load_settings(payment_gateway="test")), TestGateway)
    made = gateway_for(load_settings(payment_gateway=f"{__name__}:adapter"))
    assert isinstance(made, TestGateway)
    with pytest.raises(ConfigError, match="payment_gateway"):
        load_settings(payment_gateway="stripe")
    with pytest.raises(ConfigError, match="cannot load"):
        gateway_for(load_settings(payment_gateway="no_such_module_x:make"))


def adapter(settings: object) -> TestGateway:
    """A stand-in for a processor's adapter factory named in the setting."""
    return TestGateway()
