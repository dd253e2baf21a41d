"""The demo's story payer: once granted access, her portal shows invoices she may pay and
external ones she may not (README: "Try the payer portal")."""

from __future__ import annotations

from sqlalchemy import select

from clientpay_tui.db.models import Payer
from clientpay_tui.seeding.demo_catalog import STORY_PAYER
from clientpay_tui.seeding.demo_data import create_demo_data


def test_the_story_payer_sees_payable_and_external_invoices(services, admin):
    create_demo_data(services.ctx, payers=20)
    with services.db.read() as session:
        payer_id, login_id, email = session.execute(
            select(Payer.id, Payer.login_id, Payer.email).where(Payer.name == STORY_PAYER)
        ).one()
    assert login_id is None and email  # staff grant her access in the story
    page = services.preview.invoice_page(admin, payer_id, 0, 500)
    assert not page.has_next and page.any_payable
    reasons = {invoice.reason for invoice in page.invoices}
    assert "Payable" in reasons
    assert "From an external system: paid outside the portal" in reasons
