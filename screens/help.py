"""``?``: every key of the screen it was opened from, and why any of them are off."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from clientpay_tui.screens.base import HelpEntry
from clientpay_tui.styles import stylesheet


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; any key that closes it is listed at the bottom."""

    CSS_PATH = stylesheet("help.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q,f1", "close", "Close"),
    ]

    def __init__(self, title: str, entries: Sequence[HelpEntry]) -> None:
        super().__init__()
        self.help_title = title
        self.entries = list(entries)

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(Content(f"Keys: {self.help_title}"), id="help-title")
            with VerticalScroll(id="help-keys"):
                for entry in self.entries:
                    with Horizontal(classes="help-line"):
                        yield Static(Content(entry.key), classes="help-key")
                        yield Static(self._text(entry), classes="help-text")
            yield Static(Content("escape or ? closes this help"), id="help-close")
        yield Footer(compact=True)

    @staticmethod
    def _text(entry: HelpEntry) -> Content:
        text = Content(entry.description)
        if entry.note:
            # The key is off for this staff member: say so, and why.
            note = Content(f"\n{entry.note}").stylize("$text-warning")
            return Content.assemble(text.stylize("dim"), note)
        return text

    def action_close(self) -> None:
        self.dismiss(None)
