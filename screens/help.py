"""``?``: every key of the screen it was opened from, and why any of them are off."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from clientpay_tui.screens.base import HelpEntry
from clientpay_tui.styles import stylesheet
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static


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
                    yield Static(self._line(entry), classes="help-line")
            yield Static(Content("escape or ? closes this help"), id="help-close")
        yield Footer(compact=True)

    @staticmethod
    def _line(entry: HelpEntry) -> Content:
        key = Content.styled(f"{entry.key:>9}", "bold $text-accent")
        text = Content(f"  {entry.description}")
        if entry.note:
            return Content.assemble(
                key, text.stylize("dim"), Content(f"\n{'':>11}{entry.note}").stylize("$warning")
            )
        return Content.assemble(key, text)

    def action_close(self) -> None:
        self.dismiss(None)
