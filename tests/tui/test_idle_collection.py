"""The app runs its own full garbage collections while it runs, and gives them back to CPython
when it ends (the policy itself: tests/unit/test_idle_collection.py)."""

from __future__ import annotations

import gc

from clientpay_tui.idle_collection import NEVER
from clientpay_tui.screens.payer_list import PayerListScreen
from tests.tui.conftest import until
from tests.tui.test_idle_sign_out import Ticker

SECOND = 1 / 60  # the ticker counts minutes


async def test_a_pause_collects_what_is_new_and_exit_gives_collections_back(make_app, staff):
    before = gc.get_threshold()
    ticker = Ticker()
    app = make_app(staff, idle_clock=ticker)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        assert gc.get_threshold()[2] == NEVER  # not CPython's to start while someone types
        await pilot.press("/", *"ada")
        collected = app.collector.collections["new"]
        kept: list[list[object]] = []
        while gc.get_count()[2] == 0:  # until a young collection has promoted something
            kept.append([])
        ticker.advance(SECOND)  # a second without a key
        await until(pilot, lambda: app.collector.collections["new"] > collected)
        assert gc.get_freeze_count() > 0  # what survived is out of later collections' scans
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
