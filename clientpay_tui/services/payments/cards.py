"""Checking a card or bank account as typed, before it goes to the gateway.

Messages never repeat the number or the CVC: they name the field only, so that an error shown
again on a form, in a log or in a traceback holds nothing worth stealing.
"""

from __future__ import annotations

import re
from datetime import date

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services.payments.gateway import BankDetails, CardDetails
from clientpay_tui.text import clean_text

_SEPARATORS = re.compile(r"[\s-]+")
_BRANDS = (
    ("American Express", re.compile(r"3[47]")),
    ("Visa", re.compile(r"4")),
    ("Mastercard", re.compile(r"5[1-5]|2[2-7]")),
    ("Discover", re.compile(r"6(011|5)")),
)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check digit of a card number holds."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_brand(digits: str) -> str:
    """The brand a card number's first digits name (``Card`` when none is known)."""
    return next((brand for brand, prefix in _BRANDS if prefix.match(digits)), "Card")


def aba_ok(routing: str) -> bool:
    """The ABA routing number's checksum (weights 3, 7, 1) holds."""
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(routing, weights, strict=True)) % 10 == 0


def _holder(name: str) -> str:
    holder = clean_text(name)
    if not holder:
        raise ValidationFailed("Enter the name on the card or account.")
    if len(holder) > 200:
        raise ValidationFailed("The name is too long (at most 200 characters).")
    return holder


def card_details(
    number: str, exp_month: str, exp_year: str, cvc: str, holder_name: str, today: date
) -> CardDetails:
    """A card as typed, checked: digits and Luhn, a month and year not past, a CVC.

    Raises:
        ValidationFailed: naming the field, never its value.
    """
    digits = _SEPARATORS.sub("", number or "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        raise ValidationFailed("The card number is not valid: check the digits.")
    try:
        month, year = int(exp_month), int(exp_year)
    except ValueError:
        raise ValidationFailed("Enter the expiry as month and year, such as 08 and 2029.") from None
    if year < 100:
        year += 2000
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationFailed("Enter the expiry as month and year, such as 08 and 2029.")
    if (year, month) < (today.year, today.month):
        raise ValidationFailed("The card has expired.")
    code = (cvc or "").strip()
    if not code.isdigit() or len(code) not in (3, 4):
        raise ValidationFailed("The security code (CVC) is 3 or 4 digits.")
    return CardDetails(digits, month, year, code, _holder(holder_name))


def bank_details(routing_number: str, account_number: str, holder_name: str) -> BankDetails:
    """A US bank account as typed, checked: a 9-digit routing number with a valid checksum
    and a 4 to 17 digit account number.

    Raises:
        ValidationFailed: naming the field, never its value.
    """
    routing = _SEPARATORS.sub("", routing_number or "")
    if not routing.isdigit() or len(routing) != 9 or not aba_ok(routing):
        raise ValidationFailed("The routing number is not valid: it has 9 digits.")
    account = _SEPARATORS.sub("", account_number or "")
    if not account.isdigit() or not 4 <= len(account) <= 17:
        raise ValidationFailed("The account number is not valid: 4 to 17 digits.")
    return BankDetails(routing, account, _holder(holder_name))
