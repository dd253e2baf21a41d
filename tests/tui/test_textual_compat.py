"""Each private Textual API the app relies on (clientpay_tui/widgets/textual_compat.py) still
does what the app expects: after a Textual upgrade, a failure here names the one to fix."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.geometry import Size
from textual.reactive import Reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from clientpay_tui.widgets.textual_compat import (
    bindings_for_key,
    end_app_with_error,
    key_bindings,
    screen_lines,
    set_key_bindings,
    timer_names,
    toast_regions,
    update_scrollbars,
)
from tests.waiting import until


class Sample(App[None]):
    BINDINGS = [("x", "first", "First"), ("y", "second", "Second"), ("x", "third", "Third")]

    def compose(self) -> ComposeResult:
        yield Static("hello from the sample", id="greeting")


async def test_end_app_with_error_ends_the_app_and_run_test_raises_it() -> None:
    app = Sample()
    with pytest.raises(RuntimeError, match="unexpected"):
        async with app.run_test() as pilot:
            end_app_with_error(app, RuntimeError("unexpected"))
            await until(pilot, lambda: app.return_code == 1)
    assert app.return_code == 1


async def test_key_bindings_are_the_nodes_own_by_key_in_declared_order() -> None:
    app = Sample()
    async with app.run_test():
        found = {key: [b.action for b in bindings] for key, bindings in key_bindings(app)}
        assert found["x"] == ["first", "third"] and found["y"] == ["second"]
        assert "x" not in dict(key_bindings(app.screen))  # not the app's, on the screen


async def test_bindings_for_key() -> None:
    app = Sample()
    async with app.run_test():
        assert [b.action for b in bindings_for_key(app, "y")] == ["second"]
        assert list(bindings_for_key(app, "z")) == []


async def test_set_key_bindings_changes_one_node_its_footer_and_its_key() -> None:
    app = Sample()
    other = Sample()
    async with app.run_test() as pilot:
        set_key_bindings(app, "y", [Binding("y", "bell", "Ring")])
        assert [(b.action, b.description) for b in bindings_for_key(app, "y")] == [("bell", "Ring")]
        assert [b.description for b in bindings_for_key(other, "y")] == ["Second"]
        assert "Ring" in {b.binding.description for b in app.active_bindings.values()}
        rang = []
        app.bell = lambda: rang.append(True)
        await pilot.press("y")
        await until(pilot, lambda: rang == [True])


async def test_screen_lines_are_what_the_terminal_shows() -> None:
    app = Sample()
    async with app.run_test(size=(40, 5)) as pilot:
        await pilot.pause()
        lines = screen_lines(app)
        assert len(lines) == 5 and all(len(line) == 40 for line in lines)
        assert lines[0].startswith("hello from the sample")


async def test_timer_names() -> None:
    app = Sample()
    async with app.run_test():
        app.set_interval(60, lambda: None, name="sample timer")
        assert "sample timer" in timer_names(app)


async def test_toast_regions_are_where_the_toasts_are_drawn() -> None:
    app = Sample()
    async with app.run_test(size=(60, 12), notifications=True) as pilot:
        assert toast_regions(app.screen) == []
        app.notify("one")
        await until(pilot, lambda: len(toast_regions(app.screen)) == 1)
        [region] = toast_regions(app.screen)
        assert region.area > 0 and app.screen.region.contains_region(region)


class Lines(ScrollView):
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def render_line(self, y: int) -> Strip:
        return Strip.blank(self.size.width)


class LinesApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Lines()


async def test_update_scrollbars_shows_hides_and_resizes_them_for_the_virtual_size() -> None:
    app = LinesApp()
    async with app.run_test(size=(40, 10)) as pilot:
        lines = app.query_one(Lines)
        lines.virtual_size = Size(38, 100)
        update_scrollbars(lines)
        await pilot.pause()
        assert lines.show_vertical_scrollbar
        assert lines.vertical_scrollbar.window_virtual_size == 100

        lines.virtual_size = Size(38, 60)
        update_scrollbars(lines)
        assert lines.vertical_scrollbar.window_virtual_size == 60

        lines.virtual_size = Size(38, 5)
        update_scrollbars(lines)
        await pilot.pause()
        assert not lines.show_vertical_scrollbar
