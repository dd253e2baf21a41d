"""Every use of a private Textual API, in one place.

Textual is pinned (pyproject.toml); when it is upgraded, ``tests/tui/test_textual_compat.py``
runs each of these against the new version, so a changed internal fails there, by name, rather
than somewhere in a screen. The one use that cannot live here is ``TypedInput._on_key``
(overriding ``Input``'s key handler, :mod:`clientpay_tui.widgets.typed_input`), covered by
``tests/tui/test_typed_input.py``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget


def end_app_with_error(app: App[Any], error: Exception) -> None:
    """End ``app`` as Textual ends it on an unhandled exception (traceback shown, exit code 1;
    ``run_test`` re-raises it). There is no public API for a worker's unexpected error."""
    app._handle_exception(error)


def key_bindings(node: DOMNode) -> Iterator[tuple[str, Sequence[Binding]]]:
    """``node``'s own bindings (not its ancestors'), by key, in the order they were declared."""
    yield from node._bindings.key_to_bindings.items()


def bindings_for_key(node: DOMNode, key: str) -> Sequence[Binding]:
    """``node``'s own bindings of ``key`` (none: an empty sequence)."""
    return node._bindings.key_to_bindings.get(key, ())


def set_key_bindings(node: DOMNode, key: str, bindings: Sequence[Binding]) -> None:
    """Give this one ``node`` (not its class) ``bindings`` for ``key`` instead of its own:
    what its Footer shows and what the key does. There is no public API for bindings that
    depend on a node's arguments (a dialog whose buttons are named by its caller)."""
    node._bindings.key_to_bindings[key] = list(bindings)


def update_scrollbars(widget: Widget) -> None:
    """Show ``widget``'s scrollbars for its current ``virtual_size``, as a layout would: a
    scrollbar that appears or goes still asks for a layout, one that only moves or changes
    length is repainted. For a widget whose ``virtual_size`` is set without a layout (a
    search's new rows: the whole screen's layout was a third of their frame)."""
    widget._scroll_update(widget.virtual_size)


def screen_lines(app: App[Any]) -> list[str]:
    """What the terminal shows now, one plain-text line per row (for tests and checks)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def toast_regions(screen: Screen[Any]) -> list[Region]:
    """Where ``screen``'s toasts are drawn now (for tests and checks; ``run_test`` draws
    them only with ``notifications=True``). Textual does not export its toast widget."""
    from textual.widgets._toast import Toast

    return [toast.region for toast in screen.query(Toast)]


def timer_names(node: DOMNode) -> list[str]:
    """The names of the timers ``node`` runs now (for tests and checks)."""
    return [timer.name for timer in node._timers]
