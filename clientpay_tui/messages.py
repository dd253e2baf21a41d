"""App-wide messages (those not owned by one widget)."""

from __future__ import annotations

from textual.message import Message

from clientpay_tui.mail.delivery import DeliveryResult


class MailDelivered(Message, bubble=False):
    """The mailer tried to deliver an email. Posted to the app (from any thread), which
    toasts it and forwards it to every screen so that open views can refresh."""

    def __init__(self, result: DeliveryResult) -> None:
        super().__init__()
        self.result = result
