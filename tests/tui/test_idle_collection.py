"""The app's full garbage collections wait for a pause in typing (the policy itself:
tests/unit/test_idle_collection.py)."""

from __future__ import annotations

import gc

from clientpay_tui.idle_collection import NEVER
from clientpay_tui.screens.payer_list import PayerListScreen
from tests.tui.conftest import until
from tests.tui.test_idle_sign_out import Ticker

SECOND = 1 / 60  # the ticker counts minutes


async def test_full_collections_wait_for_a_pause_and_are_given_back_at_exit(make_app, staff):
    before = gc.get_threshold()
    ticker = Ticker()
    app = make_app(staff, idle_clock=ticker)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        assert gc.get_threshold()[2] == NEVER  # not CPython's to start while someone types
        await pilot.press("/", *"ada")
        assert app.collector.collections["quiet"] == 0
        ticker.advance(SECOND)  # a second without a key
        await until(pilot, lambda: app.collector.collections["quiet"] >= 1)
        assert gc.get_freeze_count() > 0  # what survived is out of later collections' scans
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
