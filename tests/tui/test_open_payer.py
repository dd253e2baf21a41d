"""Screens ask the app to open a payer with an ``OpenPayer`` message; the app opens it."""

from __future__ import annotations

from typing import Any

import pytest
from textual.message import Message

from clientpay_tui.messages import OpenPayer
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from tests.tui.conftest import screen_text, until


def recording_open_payer(app: Any) -> list[int]:
    """Record the ids of the ``OpenPayer`` messages the app receives (after its toasts)."""
    asked: list[int] = []
    toast_hook = app.toast_log.hook

    def hook(message: Message) -> None:
        toast_hook(message)
        if isinstance(message, OpenPayer):
            asked.append(message.payer_id)

    app.toast_log.hook = hook
    return asked


@pytest.fixture
def ada_and_grace(make_app, staff, add_payer) -> tuple[Any, list[int], int]:
    """The app (recording ``OpenPayer``), what it was asked to open, and Grace's id."""
    add_payer("Ada Lovelace", "ada@example.com")
    grace = add_payer("Grace Hopper", "grace@navy.example")
    app = make_app(staff)
    return app, recording_open_payer(app), grace


async def test_enter_on_the_list_asks_the_app_by_message(ada_and_grace):
    app, asked, grace = ada_and_grace
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PayerListScreen)
        await pilot.press("slash", *"navy")
        await screen.table.wait_loaded()
        assert screen.table.row_count == 1
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert asked == [grace]
        assert app.screen.detail.id == grace


async def test_the_palette_opens_a_payer_by_message(ada_and_grace):
    app, asked, grace = ada_and_grace
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await until(pilot, lambda: type(app.screen.focused).__name__ == "CommandInput")
        await pilot.press(*"hopper")
        await until(pilot, lambda: "grace@navy.example" in screen_text(app))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert asked == [grace]
        assert app.screen.detail.id == grace
