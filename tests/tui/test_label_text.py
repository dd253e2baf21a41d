"""update_in_place: a label's new text lays the screen out only when it does not fit."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Label

from clientpay_tui.widgets.label_text import update_in_place
from tests.layout_spy import record_layouts


class CountApp(App[None]):
    CSS = "#count { width: auto; min-width: 12; }"

    def compose(self) -> ComposeResult:
        yield Label("", id="count")


async def test_a_text_that_fits_is_drawn_without_a_layout_a_longer_one_widens_the_label() -> None:
    app = CountApp()
    async with app.run_test(size=(40, 5)) as pilot:
        label = app.query_one("#count", Label)
        await pilot.pause()
        layouts = record_layouts(app.screen)

        update_in_place(label, "12 payers")
        await pilot.pause()
        assert layouts == []
        assert "12 payers" in str(label.render())

        update_in_place(label, "10,000+ [b]payers[/b]")  # literal, and wider than 12
        await pilot.pause()
        assert layouts
        assert label.size.width == len("10,000+ [b]payers[/b]")
        assert "[b]" in str(label.render())
