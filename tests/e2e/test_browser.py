"""One real-browser story: staff grant access, the welcome email is caught by a real SMTP server,
the payer follows its link in headless Chromium, sets a password twice, signs out, signs in and
sees exactly the invoices the associations gave them, each payable or not.

Debian's ``chromium`` (installed by ``.ci/run`` with apt) is driven by Playwright's Python API
launched on ``/usr/bin/chromium``; nothing is downloaded. The portal is a real uvicorn on
127.0.0.1. Screenshots of each step are saved in the test's temporary folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import IntegrationName, InvoiceSource
from clientpay_tui.mail.capture import LoopbackSmtpServer
from clientpay_tui.mail.delivery import Outcome
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.portal.web.embedded import EmbeddedPortal
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from tests.conftest import Firm
from tests.unit.mail.conftest import RecordingHandler

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
PASSWORD = "quartz meadow lantern 42"
EMAIL = "ada@example.com"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium with apt")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI runs this test")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses root
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=args
        )
        yield launched
        await launched.close()


async def _shot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_welcome_link_to_invoices_in_a_real_browser(browser: Browser, tmp_path: Path):
    handler = RecordingHandler()
    smtp = LoopbackSmtpServer(handler)
    await smtp.start()
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    async with EmbeddedPortal(tmp_path / "portal.log") as portal:
        settings = load_settings(
            database_url=url,
            portal_url=portal.url,
            firm_name="Harbor & Finch LLP",
            **smtp.settings_overrides(),
        )
        db = Database(url)
        schema.upgrade(db)
        services = Services(db, settings)
        try:
            payer_id, shown = _firm_with_associations(services)
            portal.start(services)
            await portal.started()

            # Staff grant access; the welcome email really goes out over SMTP.
            admin = command_line_actor("staff")
            services.access.grant(admin, payer_id)
            results = await SmtpSender(db, settings).deliver_due()
            assert [r.outcome for r in results] == [Outcome.SENT], results
            [received] = handler.messages
            body = received.message.get_body(preferencelist=("plain",)).get_content()
            link = re.search(rf"{re.escape(portal.url)}/welcome\?token=[A-Za-z0-9_-]+", body)
            assert link, body

            page = await browser.new_page()
            await page.goto(link.group(0))
            assert page.url == f"{portal.url}/set-password"  # the token left the address bar
            await _shot(page, tmp_path, "1-set-password")
            await page.fill("#password", PASSWORD)
            await page.fill("#password_again", PASSWORD)
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{portal.url}/")
            await _shot(page, tmp_path, "2-home-after-password")
            assert await _invoice_numbers(page) == shown

            await page.click("text=Sign out")
            await page.wait_for_url(f"{portal.url}/login")
            await page.fill("#email", EMAIL)
            await page.fill("#password", PASSWORD)
            await _shot(page, tmp_path, "3-sign-in")
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{portal.url}/")
            await _shot(page, tmp_path, "4-home")

            assert await _invoice_numbers(page) == shown
            rows = {
                cells[2]: cells[6]
                for cells in await page.eval_on_selector_all(
                    "table.invoices tbody tr",
                    "rows => rows.map(r => [...r.cells].map(c => c.innerText.trim()))",
                )
            }
            assert rows == {
                "C1-INV-1": "Yes",
                "C1-INV-2": "No: From an external system: paid outside the portal",
                "C1-INV-3": "No: Internal invoicing is not enabled",
                "C2-INV-1": "Yes",
            }
            assert await page.is_visible("a[href='/pay']")  # something is payable
            heading = await page.inner_text("main")
            assert "Ada Lovelace · Harbor & Finch LLP" in heading

            # The used welcome link again (many payers keep the email as their way back): it
            # cannot be used, and the payer stays signed in.
            await page.goto(link.group(0))
            assert page.url == f"{portal.url}/set-password"
            await _shot(page, tmp_path, "5-used-link-signed-in")
            assert "You are still signed in" in await page.inner_text("main")
            await page.click("text=go to your invoices")
            await page.wait_for_url(f"{portal.url}/")
            assert await _invoice_numbers(page) == shown
        finally:
            db.dispose()
            await smtp.stop()


async def _invoice_numbers(page: Page) -> list[str]:
    cells = await page.eval_on_selector_all(
        "table.invoices tbody th[scope=row]", "cells => cells.map(c => c.innerText.trim())"
    )
    return sorted(cells)


def _firm_with_associations(services: Services) -> tuple[int, list[str]]:
    """A payer who sees client C1 (an invoice added later included) and one invoice of C2;
    the firm's other invoices stay hidden."""
    admin = command_line_actor("staff")
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    firm = Firm(services.db)
    c1 = firm.invoice("C1-INV-1", client="C1", client_name="Lovelace Engines", day="2026-01-10")
    firm.invoice(
        "C1-INV-2", client="C1", day="2026-01-11", source=InvoiceSource.EXTERNAL, matter="C1-002"
    )
    c2 = firm.invoice("C2-INV-1", client="C2", client_name="Babbage", matter="C2-001")
    firm.invoice("C2-INV-2", client="C2", matter="C2-001", day="2026-02-01")
    firm.invoice("C3-INV-1", client="C3", client_name="Someone else", matter="C3-001")
    payer = services.payers.create(admin, PayerForm(name="Ada Lovelace", email=EMAIL))
    services.associations.create(admin, payer.id, Level.CLIENT, Selection(frozenset({c1.id})))
    services.associations.create(admin, payer.id, Level.INVOICE, Selection(frozenset({c2.id})))
    firm.invoice(  # after the association: the client association covers it too
        "C1-INV-3", client="C1", day="2026-03-01", source=InvoiceSource.INTERNAL
    )
    return payer.id, ["C1-INV-1", "C1-INV-2", "C1-INV-3", "C2-INV-1"]
