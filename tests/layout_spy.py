"""Counting a screen's layouts (whole-screen reflows), for tests of what is drawn without one."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


def record_layouts(screen: Screen[Any]) -> list[object]:
    """From now on, each layout of ``screen`` appends its arguments to the returned list."""
    layouts: list[object] = []
    original = screen._refresh_layout

    def counted(*args: Any, **kwargs: Any) -> None:
        layouts.append((args, kwargs))
        original(*args, **kwargs)

    screen._refresh_layout = counted  # type: ignore[method-assign]
    return layouts
