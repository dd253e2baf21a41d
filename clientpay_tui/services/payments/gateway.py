"""The payment-gateway interface: what ClientPay asks of a card or bank processor.

ClientPay never stores a card or account number, nor a CVC: the numbers go to the gateway's
tokenizer, and what comes back (a token, the brand or bank, the last 4 digits, the expiry and
the holder's name) is all that is kept. Charges and refunds carry an idempotency key, so that
asking twice with one key charges once.

An adapter for a real processor implements :class:`PaymentGateway` and is named in the
``payment_gateway`` setting as ``"package.module:factory"`` (a callable taking the
:class:`~clientpay_tui.config.Settings`); the package ships the ``test`` gateway only.
"""

from __future__ import annotations

import enum
import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from clientpay_tui.errors import ConfigError

if TYPE_CHECKING:
    from clientpay_tui.config import Settings


class MethodKind(enum.StrEnum):
    CARD = "card"
    BANK = "bank"


@dataclass(frozen=True)
class CardDetails:
    """A card as typed, on its way to the tokenizer. Its number and CVC never print."""

    number: str = field(repr=False)
    """Digits only."""
    exp_month: int
    exp_year: int
    """Four digits."""
    cvc: str = field(repr=False)
    holder_name: str


@dataclass(frozen=True)
class BankDetails:
    """A bank account as typed, on its way to the tokenizer. Its number never prints."""

    routing_number: str
    account_number: str = field(repr=False)
    holder_name: str


@dataclass(frozen=True)
class Tokenized:
    """A payment method the gateway holds: the only fields ClientPay keeps."""

    token: str
    kind: MethodKind
    brand: str
    """Card brand (``Visa``) or bank name."""
    last4: str
    exp_month: int | None
    exp_year: int | None
    holder_name: str


@dataclass(frozen=True)
class Approved:
    reference: str
    """The gateway's id of the charge or refund."""


@dataclass(frozen=True)
class Declined:
    """Refused for good (a retry with the same method fails the same way)."""

    reason: str


@dataclass(frozen=True)
class GatewayFailed:
    """Not done, for a reason that may pass: the payer may try again.

    An adapter returns it only when it knows that nothing was charged; when the outcome is
    unknown (a timeout) it retries with the same idempotency key or raises.
    """

    reason: str


TokenizeResult = Tokenized | Declined | GatewayFailed
ChargeResult = Approved | Declined | GatewayFailed


@runtime_checkable
class PaymentGateway(Protocol):
    """A processor's adapter. Methods block (run them in a worker thread)."""

    name: str
    """Stored with each wallet and transaction (``test``)."""
    test_mode: bool
    """True while no money moves: every payment page and the staff app say so."""

    def tokenize_card(self, card: CardDetails) -> TokenizeResult:
        """Exchange a card for a token that :meth:`charge` accepts."""
        ...

    def tokenize_bank(self, bank: BankDetails) -> TokenizeResult:
        """Exchange a bank account for a token that :meth:`charge` accepts."""
        ...

    def charge(
        self, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        """Charge ``amount_cents`` to a token. The same key twice charges once and returns
        the first answer."""
        ...

    def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> ChargeResult:
        """Refund (part of) an approved charge, once per key."""
        ...


TEST_MODE_NOTICE = "Test mode: no money moves"


def in_test_mode(gateway: PaymentGateway | None) -> bool:
    """``gateway`` is a test one: no money moves (pages and the staff app say so)."""
    return gateway is not None and gateway.test_mode


def gateway_for(settings: Settings) -> PaymentGateway | None:
    """The gateway the ``payment_gateway`` setting names (``None`` for ``none``).

    Raises:
        ConfigError: a ``module:factory`` that cannot be imported or makes no gateway.
    """
    name = settings.payment_gateway
    if name == "none":
        return None
    if name == "test":
        from clientpay_tui.services.payments.testmode import TestGateway

        return TestGateway()
    module_name, _, factory_name = name.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), factory_name)
        gateway = factory(settings)
    except (ImportError, AttributeError) as error:
        raise ConfigError(f"invalid setting payment_gateway: cannot load {name}: {error}") from None
    if not isinstance(gateway, PaymentGateway):
        raise ConfigError(f"invalid setting payment_gateway: {name} made no PaymentGateway")
    return gateway
