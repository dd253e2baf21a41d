"""Text fields whose editing keys take effect in the order they were typed.

Textual 8.2 inserts a printable key as soon as the field sees it, but runs a bound key
(backspace, arrows, ``ctrl+u`` …) only after the key has bubbled up to the app. When several keys
arrive together — a fast typist, or an SSH link that delivers a burst at once — the characters
typed after an editing key overtake it: ``ctrl+u`` then ``new text`` leaves the field empty, and
``abc ← ← X`` becomes ``abcX`` (Textualize/textual#6605). Running the field's own bindings inline
keeps the order. Priority bindings (the app's and screens') are unaffected: they are checked
before the key reaches the field.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea

from clientpay_tui.widgets.textual_compat import bindings_for_key


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run ``widget``'s own non-priority binding for ``event`` now; True if one ran."""
    for binding in bindings_for_key(widget, event.key):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


class TypedInput(Input):
    """An :class:`~textual.widgets.Input` that keeps typed-ahead keys in order."""

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):
            await super()._on_key(event)


class TypedTextArea(TextArea):
    """A :class:`~textual.widgets.TextArea` that keeps typed-ahead keys in order."""

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):
            await super()._on_key(event)
