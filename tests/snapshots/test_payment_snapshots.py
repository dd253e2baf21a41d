"""The Wallets and Transactions tabs at 80x24, with the demo's test gateway (the header's
test-mode notice). Update with ``pytest tests/snapshots --snapshot-update`` and look at the
SVGs before committing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clientpay_tui.app import ClientPayApp
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payments.testmode import TestGateway
from tests.snapshots.conftest import open_payer, settled, staff_actor

ADA = 1


@pytest.fixture
def test_mode_app(demo_services: Services) -> Callable[[], ClientPayApp]:
    services = Services(
        demo_services.db, demo_services.settings, demo_services.ctx.clock, gateway=TestGateway()
    )

    def make() -> ClientPayApp:
        actor = staff_actor(services, "demo")
        app = ClientPayApp(services, actor=actor, handle_sighup=False)
        app.animation_level = "none"
        return app

    return make


def _tab(tab: str) -> Callable[[Any], Any]:
    async def show(pilot: Any) -> None:
        await open_payer(pilot, ADA)
        pilot.app.screen.query_one("TabbedContent").active = tab
        await settled(pilot)

    return show


def test_wallets_tab(snap_compare, test_mode_app):
    assert snap_compare(test_mode_app(), run_before=_tab("wallets-tab"))


def test_transactions_tab(snap_compare, test_mode_app):
    assert snap_compare(test_mode_app(), run_before=_tab("transactions-tab"))
