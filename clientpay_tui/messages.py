"""App-wide messages (those not owned by one widget)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

from clientpay_tui.mail.delivery import DeliveryResult

if TYPE_CHECKING:
    # Types only: the app shell imports this before SQLAlchemy loads.
    from clientpay_tui.db.change_feed import Changes


class MailDelivered(Message, bubble=False):
    """The mailer tried to deliver an email. Posted to the app (from any thread), which
    toasts it and forwards it to every screen so that open views can refresh."""

    def __init__(self, result: DeliveryResult) -> None:
        super().__init__()
        self.result = result


class DataChanged(Message, bubble=False):
    """Someone (another staff session, the portal, the mail worker, or this app) committed
    changes to payers, logins, associations or the outbox. The app forwards it to every
    screen; open screens reload what it touches."""

    def __init__(self, changes: Changes) -> None:
        super().__init__()
        self.changes = changes


class OpenPayer(Message, bubble=False):
    """A screen (the payer list, the command palette) asks the app to open a payer's details
    on top of the current screen. Posted to the app, which loads the payer and pushes its
    screen: screens never call into the app."""

    def __init__(self, payer_id: int) -> None:
        super().__init__()
        self.payer_id = payer_id
