"""The payment story in a real browser: a payer pays a Connect invoice with the approving test
card in headless Chromium (test-mode banner on every payment page), the external invoice is
never offered, and staff then see the payment on the payer's Transactions tab (Pilot, on the
same event loop as the portal)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Browser

from clientpay_tui.app import ClientPayApp
from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import OutboxEmail, Role
from clientpay_tui.portal import Portal
from clientpay_tui.portal.web.embedded import EmbeddedPortal
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payments.gateway import TEST_MODE_NOTICE
from tests.e2e.test_browser import EMAIL, PASSWORD, _firm_with_associations, _shot
from tests.e2e.test_browser import browser as browser  # the fixture
from tests.tui.conftest import open_details, screen_text, until


async def test_pay_a_connect_invoice_with_the_test_card_in_a_real_browser(
    browser: Browser,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    async with EmbeddedPortal(tmp_path / "portal.log") as portal:
        settings = load_settings(
            database_url=url,
            portal_url=portal.url,
            firm_name="Harbor & Finch LLP",
            payment_gateway="test",
        )
        db = Database(url)
        schema.upgrade(db)
        services = Services(db, settings)
        try:
            payer_id, _shown = _firm_with_associations(services)
            admin = command_line_actor("staff")
            queued = services.access.grant(admin, payer_id)
            with services.db.read() as session:
                body = session.get(OutboxEmail, queued.email_id).body_text or ""
            found = re.search(r"/welcome\?token=([A-Za-z0-9_-]+)", body)
            assert found, body
            token = found.group(1)
            Portal(services, floor_seconds=0).links.accept_invitation(token, PASSWORD, PASSWORD)
            portal.start(services)
            await portal.started()

            page = await browser.new_page()
            await page.goto(f"{portal.url}/login")
            await page.fill("#email", EMAIL)
            await page.fill("#password", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{portal.url}/")
            await page.click("a[href='/pay']")
            await page.wait_for_url(f"{portal.url}/pay")
            assert TEST_MODE_NOTICE in await page.inner_text("main")
            offered = await page.eval_on_selector_all(
                "input[name=invoice]", "boxes => boxes.map(b => b.getAttribute('aria-label'))"
            )
            assert offered == ["Pay C1-INV-1", "Pay C2-INV-1"]  # not the external one
            await page.uncheck("input[aria-label='Pay C2-INV-1']")
            await page.check("#method-card")
            await page.fill("#card_number", "4242 4242 4242 4242")
            await page.fill("#exp_month", "12")
            await page.fill("#exp_year", "2030")
            await page.fill("#cvc", "123")
            await page.fill("#holder_name", "Ada Lovelace")
            await _shot(page, tmp_path, "5-pay")
            await page.click("text=Review payment")
            await page.wait_for_url(re.compile(r".*/pay/confirm\?key=.*"))
            assert TEST_MODE_NOTICE in await page.inner_text("main")
            await _shot(page, tmp_path, "6-confirm")
            await page.click("text=Pay 100.00 now")
            await page.wait_for_url(re.compile(r".*/pay/result\?key=.*"))
            result = await page.inner_text("main")
            await _shot(page, tmp_path, "7-paid")
            assert "Payment made" in result and TEST_MODE_NOTICE in result
            await page.goto(f"{portal.url}/transactions")
            history = await page.inner_text("main")
            assert "C1-INV-1" in history and "Visa •••• 4242" in history

            staff = services.staff
            staff.add(admin, "sam", Role.STAFF, "correct horse battery")
            app = ClientPayApp(
                services, actor=staff.sign_in("sam", "correct horse battery"), handle_sighup=False
            )
            async with app.run_test(size=(80, 24)) as pilot:
                assert TEST_MODE_NOTICE in app.title
                await open_details(app, pilot, payer_id)
                await pilot.press("5")  # Transactions (with Connect: the fifth tab)
                await until(pilot, lambda: "C1-INV-1" in screen_text(app))
                shown = screen_text(app)
                assert "Visa •••• 4242" in shown and "100.00" in shown and "succeeded" in shown
        finally:
            db.dispose()
