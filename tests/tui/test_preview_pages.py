"""The Portal preview tab reads the payer's invoices a page at a time through the service that
serves the portal's home page: past the first loaded rows, later pages come from it too."""

from __future__ import annotations

from clientpay_tui.db.models import IntegrationName
from clientpay_tui.screens.payer_tabs import PayerPreview, load_tabs
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.associations import Level, Selection


def test_preview_pages_past_the_loaded_rows_match_the_portal_pages(
    services, admin, staff, firm, add_payer
):
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    first = None
    for n in range(230):
        invoice = firm.invoice(f"INV-{n:03d}", day=f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d}")
        first = first or invoice
    payer = add_payer("Ada Lovelace", "ada@example.com")
    assert first is not None
    services.associations.create(admin, payer, Level.CLIENT, Selection(frozenset({first.id})))
    session = StaffSession(services, staff)

    source = load_tabs(session, payer, connect=True).preview
    preview = PayerPreview(session, source)

    assert preview.count() == (230, False)
    assert len(source.invoices) == 200  # loaded with the tabs
    rows = [*preview.fetch(0, 100), *preview.fetch(100, 100), *preview.fetch(200, 100)]
    pages = [services.preview.invoice_page(staff, payer, offset, 100) for offset in (0, 100, 200)]
    assert rows == [invoice for page in pages for invoice in page.invoices]
    assert len({invoice.invoice_id for invoice in rows}) == 230
