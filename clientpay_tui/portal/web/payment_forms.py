"""What the payment pages share: reading a card, a bank account or an amount from a form, the
test-mode notice, and the limit on trying payment methods.

A card or account number and a CVC are read here and handed to the gateway's tokenizer; they
are never put back into a page, a message or the session.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.portal import limits
from clientpay_tui.portal.web.pages import call, client_ip, portal, text_field, web
from clientpay_tui.services.payments.cards import bank_details, card_details
from clientpay_tui.services.payments.gateway import TEST_MODE_NOTICE, BankDetails, CardDetails

METHOD_IP = limits.Limit("payment_method", 30, 60)
METHOD_ACCOUNT = limits.Limit("payment_method", 15, 60)
"""Cards and accounts tried (saved or used once): card-testing with a stolen login stops here."""
_AMOUNT = re.compile(r"^\d{1,9}(\.\d{1,2})?$")


def payment_context(request: Request) -> dict[str, Any]:
    """Values every payment page's template uses."""
    services = portal(request).payments
    return {
        "test_mode": services.test_mode,
        "test_mode_notice": TEST_MODE_NOTICE,
        "payments_ready": services.gateway is not None,
    }


def read_card(request: Request, form: FormData) -> CardDetails:
    """The card fields of ``form``, checked (raises :class:`ValidationFailed`)."""
    today = web(request).portal.payments.ctx.clock().date()
    return card_details(
        text_field(form, "card_number", 40),
        text_field(form, "exp_month", 4),
        text_field(form, "exp_year", 4),
        text_field(form, "cvc", 8),
        text_field(form, "holder_name", 200),
        today,
    )


def read_bank(form: FormData) -> BankDetails:
    """The bank account fields of ``form``, checked (raises :class:`ValidationFailed`)."""
    return bank_details(
        text_field(form, "routing_number", 20),
        text_field(form, "account_number", 30),
        text_field(form, "holder_name", 200),
    )


def safe_values(form: FormData) -> dict[str, str]:
    """What a form may show again after an error: never a number or a CVC."""
    return {
        "holder_name": text_field(form, "holder_name", 200),
        "exp_month": text_field(form, "exp_month", 4),
        "exp_year": text_field(form, "exp_year", 4),
    }


def amount_cents(text: str) -> int:
    """``1,234.50`` as cents (raises :class:`ValidationFailed`)."""
    value = text.strip().replace(",", "")
    if not _AMOUNT.match(value):
        raise ValidationFailed("Enter the amount in currency units, such as 125.00.")
    try:
        cents = int(Decimal(value) * 100)
    except InvalidOperation:
        raise ValidationFailed("Enter the amount in currency units, such as 125.00.") from None
    if cents <= 0:
        raise ValidationFailed("Enter an amount to pay, more than zero.")
    return cents


async def count_method_attempt(request: Request, login_id: int) -> None:
    """One more card or account tried (raises ``RateLimited`` past the limits)."""
    await call(
        portal(request).limits.hit,
        limits.ip_bucket(METHOD_IP, client_ip(request)),
        limits.account_bucket(METHOD_ACCOUNT, login_id),
    )


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"
