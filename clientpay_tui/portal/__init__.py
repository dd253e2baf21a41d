"""The payer portal's side of accounts, as plain functions (no web server).

A web front end (or a test) builds one :class:`Portal` from the app's
:class:`~clientpay_tui.services.facade.Services` and calls it from worker threads: argon2
checks take ~150 ms each. This package sits above the services and never imports Textual.
"""

from __future__ import annotations

from clientpay_tui.portal.accounts import RESET_REQUESTED, PortalAccounts
from clientpay_tui.portal.common import RESPONSE_FLOOR_SECONDS, PortalIdentity
from clientpay_tui.portal.limits import PortalLimits
from clientpay_tui.portal.links import LinkInfo, PortalLinks
from clientpay_tui.portal.mfa import PortalMfa
from clientpay_tui.portal.overview import LoginView, PayDecision, PortalOverview
from clientpay_tui.portal.password_change import PortalPasswords
from clientpay_tui.portal.sessions import PortalSessions
from clientpay_tui.services.facade import Services

__all__ = [
    "RESET_REQUESTED",
    "LinkInfo",
    "LoginView",
    "PayDecision",
    "Portal",
    "PortalIdentity",
]


class Portal:
    """The portal's entry points, sharing the app's database, settings and clock.

    Attributes:
        accounts: sign in, ask for a reset (the forms that take an email address).
        links: open a welcome or reset link, accept an invitation, complete a reset.
        overview: what a signed-in payer sees and may pay.
        sessions: the web portal's server-side browser sessions.
        limits: per-IP and per-account rate limits of the public forms.
        mfa: the emailed sign-in code (``portal_mfa = "email"``).
        passwords: a signed-in payer changes their password.
        wallets: a login's saved payment methods (:mod:`clientpay_tui.services.payments`).
        payments: paying invoices and the history of payments.
    """

    def __init__(self, services: Services, *, floor_seconds: float = RESPONSE_FLOOR_SECONDS):
        """
        Args:
            services: the app's services.
            floor_seconds: the least time a sign-in or reset request takes, whatever the
                address (see :data:`~clientpay_tui.portal.common.RESPONSE_FLOOR_SECONDS`).
        """
        self.accounts = PortalAccounts(services, floor_seconds=floor_seconds)
        self.links = PortalLinks(services, floor_seconds=floor_seconds)
        self.overview = PortalOverview(services, floor_seconds=floor_seconds)
        self.sessions = PortalSessions(services, floor_seconds=floor_seconds)
        self.limits = PortalLimits(services, floor_seconds=floor_seconds)
        self.mfa = PortalMfa(services, floor_seconds=floor_seconds)
        self.passwords = PortalPasswords(services, floor_seconds=floor_seconds)
        self.wallets = services.wallets
        self.payments = services.payments
