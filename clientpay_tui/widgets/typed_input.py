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

from typing import Any

from textual import events
from textual.geometry import Size
from textual.reactive import Reactive
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
    """An :class:`~textual.widgets.Input` that keeps typed-ahead keys in order, and says so
    when text does not fit.

    Textual's ``Input`` refuses a paste that would go past ``max_length`` with only a bell
    (nothing at all arrives), and keeps the first line of a pasted block silently. Here what
    fits is kept and a toast names the limit and what was left out.

    Args:
        label: how the toasts name the field (default: from its id, ``date-from`` → "Date
            from").
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """Textual's ``Input`` sets its virtual size (the text's width) on every key, and a widget
    whose virtual size changes has the whole screen laid out again before the key's echo is
    drawn (2-6 ms a key at 80x24; bench/RESULTS.md, stop 14). A field's size does not follow
    its text (``Input`` asks for a layout itself when it is sized by its content), and its
    scrolling reads the virtual size as it is set."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):
            await super()._on_key(event)

    def _on_paste(self, event: events.Paste) -> None:
        lines = event.text.splitlines()
        if len(lines) > 1:
            self._tell(
                f"{self._field_name()} is one line: only the first line of the pasted text was "
                f"kept ({len(lines) - 1} more left out)."
            )
        # Input._on_paste runs next (Textual calls each class's handler): it inserts.

    def replace(self, text: str, start: int, end: int) -> None:
        limit = self.max_length
        if limit:
            start, end = sorted((max(0, start), min(len(self.value), end)))
            room = max(0, limit - (len(self.value) - (end - start)))
            if len(text) > room:
                left_out = len(text) - room
                text = text[:room]
                self._tell(
                    f"{self._field_name()} holds at most {limit:,} characters: "
                    f"{left_out:,} character{'s' if left_out != 1 else ''} left out."
                )
        super().replace(text, start, end)

    def _field_name(self) -> str:
        if self.label:
            return self.label
        return (self.id or "This field").replace("-", " ").capitalize()

    def _tell(self, message: str) -> None:
        self.notify(message, severity="warning", markup=False)


class TypedTextArea(TextArea):
    """A :class:`~textual.widgets.TextArea` that keeps typed-ahead keys in order."""

    async def _on_key(self, event: events.Key) -> None:
        if not await run_own_binding(self, event):
            await super()._on_key(event)
