"""What the payer details screen needs before it can be composed, loaded in a thread."""

from __future__ import annotations

from dataclasses import dataclass

from clientpay_tui.enums import IntegrationName
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.payers import PayerDetail


@dataclass(frozen=True)
class PayerPage:
    """What the screen needs before it can be composed."""

    detail: PayerDetail
    connect: bool
    """The Connect integration is enabled: the Associations tab exists."""


def load_payer(session: StaffSession, payer_id: int) -> PayerPage:
    """Fetch a payer and the integration state (blocking: run it in a thread)."""
    services, actor = session.services, session.actor
    detail = services.payers.get(actor, payer_id)
    connect = IntegrationName.CONNECT in services.integrations.enabled(actor)
    return PayerPage(detail, connect)
