"""A payer's saved payment methods (wallets): list, add through the gateway, remove, default.

Only the gateway's token and what may be shown (kind, brand or bank, last 4, expiry, holder)
are stored. A portal login may cover several payer records: its wallets are those of every
record, and a new one belongs to the login's oldest record.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Payer
from clientpay_tui.db.payment_models import Wallet
from clientpay_tui.errors import NotFound, PaymentDeclined, PaymentFailed, PaymentsUnavailable
from clientpay_tui.services import audit
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.payments.gateway import (
    BankDetails,
    CardDetails,
    Declined,
    GatewayFailed,
    PaymentGateway,
    Tokenized,
    TokenizeResult,
)

PORTAL_ACTOR = "portal"
"""The audit actor of what payers do in the portal (as :mod:`clientpay_tui.portal.common`)."""
EXPIRING_DAYS = 30
"""A card that expires within this many days is flagged."""
NO_GATEWAY = "Payments are not set up for this portal yet."
NOT_YOURS = "This payment method is not in your wallet."


@dataclass(frozen=True)
class WalletRow:
    id: int
    payer_id: int
    kind: str
    label: str
    brand: str
    last4: str
    exp_month: int | None
    exp_year: int | None
    holder_name: str
    is_default: bool
    created_at: datetime
    usable: bool
    """It has a gateway token (methods saved before gateways have none)."""
    expired: bool
    expiring_soon: bool
    """Expires within :data:`EXPIRING_DAYS` days."""

    @property
    def expiry(self) -> str:
        """``08/2029``, or empty for a bank account."""
        if self.exp_month is None or self.exp_year is None:
            return ""
        return f"{self.exp_month:02d}/{self.exp_year}"


def expires_on(exp_month: int, exp_year: int) -> date:
    """A card works through the last day of its expiry month."""
    return date(exp_year, exp_month, calendar.monthrange(exp_year, exp_month)[1])


def row_of(wallet: Wallet, today: date) -> WalletRow:
    expired = soon = False
    if wallet.exp_month and wallet.exp_year:
        last_day = expires_on(wallet.exp_month, wallet.exp_year)
        expired = today > last_day
        soon = not expired and last_day - today <= timedelta(days=EXPIRING_DAYS)
    return WalletRow(
        id=wallet.id,
        payer_id=wallet.payer_id,
        kind=wallet.kind,
        label=wallet.label,
        brand=wallet.brand,
        last4=wallet.last4,
        exp_month=wallet.exp_month,
        exp_year=wallet.exp_year,
        holder_name=wallet.holder_name,
        is_default=wallet.is_default,
        created_at=wallet.created_at,
        usable=wallet.token is not None,
        expired=expired,
        expiring_soon=soon,
    )


def method_label(brand: str, last4: str) -> str:
    return f"{brand} •••• {last4}" if last4 else brand


def login_payer_ids(session: Session, login_id: int) -> list[int]:
    """The payer records a portal login covers, oldest first."""
    return list(
        session.scalars(select(Payer.id).where(Payer.login_id == login_id).order_by(Payer.id))
    )


def owner_of(session: Session, login_id: int) -> int:
    """The record that holds what a login adds (its oldest).

    Raises:
        NotFound: the login covers no record (deleted since the page was shown).
    """
    ids = login_payer_ids(session, login_id)
    if not ids:
        raise NotFound("This portal login no longer exists.")
    return ids[0]


def tokenized_or_raise(result: TokenizeResult) -> Tokenized:
    if isinstance(result, Declined):
        raise PaymentDeclined(result.reason)
    if isinstance(result, GatewayFailed):
        raise PaymentFailed(result.reason)
    return result


class WalletService:
    """Wallets as the portal manages them and staff see them (read-only)."""

    def __init__(self, ctx: ServiceContext, gateway: PaymentGateway | None) -> None:
        self.ctx = ctx
        self.gateway = gateway

    def _gateway(self) -> PaymentGateway:
        if self.gateway is None:
            raise PaymentsUnavailable(NO_GATEWAY)
        return self.gateway

    def for_login(self, login_id: int) -> list[WalletRow]:
        """The login's saved methods, the default first, then oldest first."""
        today = self.ctx.clock().date()
        with self.ctx.db.read() as session:
            ids = login_payer_ids(session, login_id)
            return [row_of(w, today) for w in self._wallets(session, ids)]

    def for_payer(self, actor: Actor, payer_id: int) -> list[WalletRow]:
        """One payer record's saved methods, for the staff app."""
        today = self.ctx.clock().date()
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return [row_of(w, today) for w in self._wallets(session, [payer_id])]

    @staticmethod
    def _wallets(session: Session, payer_ids: list[int]) -> list[Wallet]:
        if not payer_ids:
            return []
        return list(
            session.scalars(
                select(Wallet)
                .where(Wallet.payer_id.in_(payer_ids))
                .order_by(Wallet.is_default.desc(), Wallet.id)
            )
        )

    def add_card(
        self, login_id: int, card: CardDetails, *, make_default: bool = False
    ) -> WalletRow:
        """Tokenize a card and save what may be shown of it.

        Raises:
            PaymentsUnavailable: no gateway is configured.
            PaymentDeclined: the gateway refused the card (the reason, never the number).
            PaymentFailed: the gateway had an error; try again.
        """
        tokenized = tokenized_or_raise(self._gateway().tokenize_card(card))
        return self._save(login_id, tokenized, make_default)

    def add_bank(
        self, login_id: int, bank: BankDetails, *, make_default: bool = False
    ) -> WalletRow:
        """Tokenize a bank account and save what may be shown of it (see :meth:`add_card`)."""
        tokenized = tokenized_or_raise(self._gateway().tokenize_bank(bank))
        return self._save(login_id, tokenized, make_default)

    def _save(self, login_id: int, method: Tokenized, make_default: bool) -> WalletRow:
        gateway = self._gateway()
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            ids = login_payer_ids(session, login_id)
            owner = owner_of(session, login_id)
            first = not self._wallets(session, ids)
            if make_default and not first:
                self._clear_default(session, ids)
            wallet = Wallet(
                payer_id=owner,
                kind=method.kind.value,
                label=method_label(method.brand, method.last4),
                is_default=first or make_default,
                created_at=now,
                token=method.token,
                gateway=gateway.name,
                brand=method.brand,
                last4=method.last4,
                exp_month=method.exp_month,
                exp_year=method.exp_year,
                holder_name=method.holder_name,
            )
            session.add(wallet)
            session.flush()
            expiry = (
                f", expires {method.exp_month:02d}/{method.exp_year}" if method.exp_year else ""
            )
            audit.record_for_login(
                session,
                now,
                PORTAL_ACTOR,
                "wallet.add",
                f"Saved {wallet.label}{expiry} to the portal wallet"
                + (" as the default" if wallet.is_default else ""),
                login_id,
            )
            return row_of(wallet, now.date())

    def remove(self, login_id: int, wallet_id: int) -> WalletRow:
        """Remove a saved method; past transactions keep its label. If it was the default,
        the oldest remaining method becomes the default.

        Raises:
            NotFound: not one of the login's methods.
        """
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            ids = login_payer_ids(session, login_id)
            wallet = self._owned(session, ids, wallet_id)
            removed = row_of(wallet, now.date())
            session.delete(wallet)
            session.flush()
            rest = self._wallets(session, ids)
            if removed.is_default and rest:
                rest[0].is_default = True
            audit.record_for_login(
                session,
                now,
                PORTAL_ACTOR,
                "wallet.remove",
                f"Removed {removed.label} from the portal wallet",
                login_id,
            )
            return removed

    def set_default(self, login_id: int, wallet_id: int) -> WalletRow:
        """Make one saved method the default.

        Raises:
            NotFound: not one of the login's methods.
        """
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            ids = login_payer_ids(session, login_id)
            wallet = self._owned(session, ids, wallet_id)
            if not wallet.is_default:
                self._clear_default(session, ids)
                wallet.is_default = True
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "wallet.default",
                    f"Made {wallet.label} the default payment method",
                    login_id,
                )
            session.flush()
            return row_of(wallet, now.date())

    @staticmethod
    def _owned(session: Session, payer_ids: list[int], wallet_id: int) -> Wallet:
        wallet = session.get(Wallet, wallet_id, with_for_update=True)
        if wallet is None or wallet.payer_id not in payer_ids:
            raise NotFound(NOT_YOURS)
        return wallet

    @staticmethod
    def _clear_default(session: Session, payer_ids: list[int]) -> None:
        session.execute(
            update(Wallet)
            .where(Wallet.payer_id.in_(payer_ids), Wallet.is_default.is_(True))
            .values(is_default=False)
            .execution_options(synchronize_session=False)
        )
