"""One object that holds every service, built once per process and handed to the app.

The services that opening the app and signing in use are built at once; the others (and their
modules) when first used. The app opens its database behind the sign-in screen and then
verifies a password with argon2, which takes 64 MiB for a moment: what is loaded by then is
under that peak (SPEC 7: under 150 MiB), and the payer list, payments, imports and reports
are not needed before the password checks out.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from clientpay_tui.config import Settings
from clientpay_tui.db.change_feed import ChangeFeed, change_feed
from clientpay_tui.db.engine import Database
from clientpay_tui.db.types import utcnow
from clientpay_tui.services.audit import AuditService
from clientpay_tui.services.context import Clock, ServiceContext
from clientpay_tui.services.payments.gateway import PaymentGateway, gateway_for, in_test_mode
from clientpay_tui.services.reminders import ReminderService
from clientpay_tui.services.staff import StaffService
from clientpay_tui.services.staff_keys import StaffKeyService

if TYPE_CHECKING:
    from clientpay_tui.services.access import AccessService
    from clientpay_tui.services.access_review import AccessReviewService
    from clientpay_tui.services.associations import AssociationService
    from clientpay_tui.services.bulk_access import BulkAccessService
    from clientpay_tui.services.imports import ImportService
    from clientpay_tui.services.integrations import IntegrationService
    from clientpay_tui.services.outbox import OutboxService
    from clientpay_tui.services.payers import PayerService
    from clientpay_tui.services.payments.paying import PaymentService
    from clientpay_tui.services.payments.wallets import WalletService
    from clientpay_tui.services.preview import PreviewService


class Services:
    """The service layer's entry points, sharing one database, settings and clock."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock = utcnow,
        gateway: PaymentGateway | None = None,
    ) -> None:
        """
        Args:
            gateway: the payment gateway; by default the one ``settings.payment_gateway``
                names (one per process: the test gateway remembers idempotency keys).
        """
        self.ctx = ServiceContext(db=db, settings=settings, clock=clock)
        self.gateway = gateway if gateway is not None else gateway_for(settings)
        # Opening the app and signing in (staff accounts and keys, the sender's reminders).
        self.staff = StaffService(self.ctx)
        self.staff_keys = StaffKeyService(self.ctx)
        self.audit = AuditService(self.ctx)
        self.reminders = ReminderService(self.ctx)

    # Built when first used (cached_property: one instance each, even from two threads).

    @cached_property
    def access(self) -> AccessService:
        from clientpay_tui.services.access import AccessService

        return AccessService(self.ctx)

    @cached_property
    def payers(self) -> PayerService:
        from clientpay_tui.services.payers import PayerService

        return PayerService(self.ctx, self.access)

    @cached_property
    def access_review(self) -> AccessReviewService:
        from clientpay_tui.services.access_review import AccessReviewService

        return AccessReviewService(self.ctx, self.payers)

    @cached_property
    def bulk_access(self) -> BulkAccessService:
        from clientpay_tui.services.bulk_access import BulkAccessService

        return BulkAccessService(self.ctx, self.payers, self.access)

    @cached_property
    def associations(self) -> AssociationService:
        from clientpay_tui.services.associations import AssociationService

        return AssociationService(self.ctx)

    @cached_property
    def preview(self) -> PreviewService:
        from clientpay_tui.services.preview import PreviewService

        return PreviewService(self.ctx)

    @cached_property
    def integrations(self) -> IntegrationService:
        from clientpay_tui.services.integrations import IntegrationService

        return IntegrationService(self.ctx)

    @cached_property
    def imports(self) -> ImportService:
        from clientpay_tui.services.imports import ImportService

        return ImportService(self.ctx)

    @cached_property
    def outbox(self) -> OutboxService:
        from clientpay_tui.services.outbox import OutboxService

        return OutboxService(self.ctx)

    @cached_property
    def wallets(self) -> WalletService:
        from clientpay_tui.services.payments.wallets import WalletService

        return WalletService(self.ctx, self.gateway)

    @cached_property
    def payments(self) -> PaymentService:
        from clientpay_tui.services.payments.paying import PaymentService

        return PaymentService(self.ctx, self.gateway)

    @property
    def test_mode(self) -> bool:
        """Payments go to the test gateway: no money moves (every payment page and the staff
        app's title say so)."""
        return in_test_mode(self.gateway)

    def change_feed(self) -> ChangeFeed:
        """What other sessions, the portal and the worker commit, as it happens (open it
        with ``async with``)."""
        return change_feed(self.ctx.db)

    @property
    def db(self) -> Database:
        return self.ctx.db

    @property
    def settings(self) -> Settings:
        return self.ctx.settings
