"""The ``test`` gateway, modelled on processors' test modes: nothing leaves the machine.

Documented test numbers decide what happens (any future expiry, any CVC, any name):

==========================  ======================  ==========================================
number                      brand                   a charge is
==========================  ======================  ==========================================
4242 4242 4242 4242         Visa                    approved
5555 5555 5555 4444         Mastercard              approved
3782 822463 10005           American Express        approved
4000 0000 0000 0002         Visa                    declined: card declined
4000 0000 0000 9995         Visa                    declined: insufficient funds
4000 0000 0000 0119         Visa                    an error to retry (processing error)
routing 110000000,          Test Bank               approved
account 000123456789
routing 110000000,          Test Bank               declined: account closed
account 000111111116
==========================  ======================  ==========================================

Any other number is refused: a test-mode portal must not take a real card. A token carries its
test outcome, so saved methods keep working after a restart; idempotency keys are remembered
for the life of the process.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from clientpay_tui.services.payments.gateway import (
    Approved,
    BankDetails,
    CardDetails,
    ChargeResult,
    Declined,
    GatewayFailed,
    MethodKind,
    Tokenized,
    TokenizeResult,
)

TEST_CARDS: dict[str, tuple[str, str]] = {
    "4242424242424242": ("Visa", "approve"),
    "5555555555554444": ("Mastercard", "approve"),
    "378282246310005": ("American Express", "approve"),
    "4000000000000002": ("Visa", "declined"),
    "4000000000009995": ("Visa", "funds"),
    "4000000000000119": ("Visa", "error"),
}
TEST_ROUTING = "110000000"
TEST_BANK = "Test Bank"
TEST_ACCOUNTS: dict[str, str] = {"000123456789": "approve", "000111111116": "closed"}
OUTCOMES: dict[str, Approved | Declined | GatewayFailed | None] = {
    "approve": None,
    "declined": Declined("Your card was declined."),
    "funds": Declined("Your card has insufficient funds."),
    "error": GatewayFailed(
        "The card processor had an error and nothing was charged. Try again in a moment."
    ),
    "closed": Declined("The bank account is closed."),
}
NOT_A_TEST_CARD = (
    "Test mode takes only the documented test cards (such as 4242 4242 4242 4242); "
    "never enter a real card here."
)
NOT_A_TEST_ACCOUNT = (
    "Test mode takes only the documented test bank accounts (routing 110000000, "
    "account 000123456789); never enter a real account here."
)


@dataclass(frozen=True)
class TestCharge:
    idempotency_key: str
    token: str
    amount_cents: int
    result: ChargeResult


class TestGateway:
    """Approves, declines and fails by test number; remembers keys so that one key charges
    once. Thread-safe: the portal charges from worker threads."""

    __test__ = False  # not a pytest test class
    name = "test"
    test_mode = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._charges: dict[str, TestCharge] = {}
        self._refunds: dict[str, Approved | Declined | GatewayFailed] = {}

    @property
    def charges(self) -> list[TestCharge]:
        """Every distinct charge asked for (one per idempotency key), oldest first."""
        with self._lock:
            return list(self._charges.values())

    def tokenize_card(self, card: CardDetails) -> TokenizeResult:
        known = TEST_CARDS.get(card.number)
        if known is None:
            return Declined(NOT_A_TEST_CARD)
        brand, outcome = known
        return Tokenized(
            token=f"test_card_{outcome}_{secrets.token_hex(12)}",
            kind=MethodKind.CARD,
            brand=brand,
            last4=card.number[-4:],
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            holder_name=card.holder_name,
        )

    def tokenize_bank(self, bank: BankDetails) -> TokenizeResult:
        outcome = TEST_ACCOUNTS.get(bank.account_number)
        if bank.routing_number != TEST_ROUTING or outcome is None:
            return Declined(NOT_A_TEST_ACCOUNT)
        return Tokenized(
            token=f"test_bank_{outcome}_{secrets.token_hex(12)}",
            kind=MethodKind.BANK,
            brand=TEST_BANK,
            last4=bank.account_number[-4:],
            exp_month=None,
            exp_year=None,
            holder_name=bank.holder_name,
        )

    def charge(
        self, token: str, amount_cents: int, idempotency_key: str, description: str
    ) -> ChargeResult:
        with self._lock:
            earlier = self._charges.get(idempotency_key)
            if earlier is not None:
                if (earlier.token, earlier.amount_cents) != (token, amount_cents):
                    return Declined("This payment was already made with other details.")
                return earlier.result
            result = self._outcome(token, amount_cents)
            self._charges[idempotency_key] = TestCharge(
                idempotency_key, token, amount_cents, result
            )
            return result

    def refund(self, reference: str, amount_cents: int, idempotency_key: str) -> ChargeResult:
        with self._lock:
            earlier = self._refunds.get(idempotency_key)
            if earlier is None:
                if not reference.startswith("test_ch_") or amount_cents <= 0:
                    earlier = Declined("No such test charge.")
                else:
                    earlier = Approved(f"test_re_{secrets.token_hex(8)}")
                self._refunds[idempotency_key] = earlier
            return earlier

    @staticmethod
    def _outcome(token: str, amount_cents: int) -> ChargeResult:
        parts = token.split("_")
        if len(parts) != 4 or parts[0] != "test" or parts[2] not in OUTCOMES:
            return Declined("This payment method is not known to the test gateway.")
        if amount_cents <= 0:
            return Declined("The amount must be more than zero.")
        return OUTCOMES[parts[2]] or Approved(f"test_ch_{secrets.token_hex(8)}")
