"""Keys that arrive in one burst (fast typing, a laggy SSH link) are applied in order."""

from __future__ import annotations

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import Input

from clientpay_tui.widgets.typed_input import TypedInput, TypedTextArea

BURST = [
    ("a", "a"), ("b", "b"), ("c", "c"), ("left", None), ("left", None), ("X", "X"),
    ("backspace", None), ("Y", "Y"), ("ctrl+u", None), ("z", "z"),
]  # fmt: skip
"""``abc``, two left, ``X``, backspace, ``Y`` → ``aYbc``; ctrl+u clears left of the cursor → ``bc``;
``z`` → ``zbc``."""


class OneField(App[None]):
    def __init__(self, field: Widget) -> None:
        super().__init__()
        self.field = field

    def compose(self) -> ComposeResult:
        yield self.field


async def _type_burst(field: Widget) -> str:
    app = OneField(field)
    async with app.run_test() as pilot:
        for key, character in BURST:  # posted without waiting, as a burst arrives
            app.post_message(events.Key(key, character))
        await pilot.pause()
        await pilot.pause()
        return field.value if isinstance(field, Input) else field.text


@pytest.mark.parametrize("field", [TypedInput, TypedTextArea])
async def test_a_burst_of_keys_is_applied_in_the_order_typed(field: type[Widget]) -> None:
    assert await _type_burst(field()) == "zbc"


async def test_textual_input_still_reorders_a_burst() -> None:
    """Canary: when this fails, Textual fixed #6605 and TypedInput can go."""
    assert await _type_burst(Input()) != "zbc"


class NarrowField(App[None]):
    CSS = "Input { width: 14; }"

    def __init__(self, field: Input) -> None:
        super().__init__()
        self.field = field

    def compose(self) -> ComposeResult:
        yield self.field


@pytest.mark.parametrize("field", [TypedInput, Input])
async def test_a_field_narrower_than_its_text_scrolls_to_the_cursor(field: type[Input]) -> None:
    """The field keeps the cursor in view as typed text outgrows it, and after Home (its
    virtual size is set without a layout of the screen: TypedInput)."""
    app = NarrowField(field())
    async with app.run_test() as pilot:
        await pilot.press(*"abcdefghijklmnopqrstuvwxyz0123")
        assert app.field.value == "abcdefghijklmnopqrstuvwxyz0123"
        assert app.field.scroll_x > 0
        shown = app.field.render_line(0).text
        assert "0123" in shown and "abcd" not in shown
        await pilot.press("home")
        shown = app.field.render_line(0).text
        assert app.field.scroll_x == 0 and "abcd" in shown and "0123" not in shown
