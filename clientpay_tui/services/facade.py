"""One object that holds every service, built once per process and handed to the app."""

from __future__ import annotations

from clientpay_tui.config import Settings
from clientpay_tui.db.change_feed import ChangeFeed, change_feed
from clientpay_tui.db.engine import Database
from clientpay_tui.db.types import utcnow
from clientpay_tui.services.access import AccessService
from clientpay_tui.services.access_review import AccessReviewService
from clientpay_tui.services.associations import AssociationService
from clientpay_tui.services.audit import AuditService
from clientpay_tui.services.bulk_access import BulkAccessService
from clientpay_tui.services.context import Clock, ServiceContext
from clientpay_tui.services.imports import ImportService
from clientpay_tui.services.integrations import IntegrationService
from clientpay_tui.services.outbox import OutboxService
from clientpay_tui.services.payers import PayerService
from clientpay_tui.services.payments.gateway import PaymentGateway, gateway_for
from clientpay_tui.services.payments.paying import PaymentService
from clientpay_tui.services.payments.wallets import WalletService
from clientpay_tui.services.preview import PreviewService
from clientpay_tui.services.reminders import ReminderService
from clientpay_tui.services.staff import StaffService
from clientpay_tui.services.staff_keys import StaffKeyService


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
        self.access = AccessService(self.ctx)
        self.payers = PayerService(self.ctx, self.access)
        self.access_review = AccessReviewService(self.ctx, self.payers)
        self.bulk_access = BulkAccessService(self.ctx, self.payers, self.access)
        self.associations = AssociationService(self.ctx)
        self.preview = PreviewService(self.ctx)
        self.staff = StaffService(self.ctx)
        self.staff_keys = StaffKeyService(self.ctx)
        self.integrations = IntegrationService(self.ctx)
        self.audit = AuditService(self.ctx)
        self.imports = ImportService(self.ctx)
        self.outbox = OutboxService(self.ctx)
        self.reminders = ReminderService(self.ctx)
        self.wallets = WalletService(self.ctx, self.gateway)
        self.payments = PaymentService(self.ctx, self.gateway)

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
