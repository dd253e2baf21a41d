"""One reusable confirm dialog that states exactly what will happen and to whom."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from clientpay_tui.styles import stylesheet
from clientpay_tui.text import printable
from clientpay_tui.widgets.textual_compat import set_key_bindings


class ConfirmScreen(ModalScreen[bool]):
    """Ask before acting. Dismisses ``True`` to go ahead, ``False`` otherwise.

    Args:
        title: what the action is, e.g. "Grant login access".
        message: what will happen and to whom. Shown literally: it may hold names and
            addresses from the database.
        confirm: the label of the button that acts; ``None`` makes this a notice with only
            the cancel button (used to say why something cannot be done).
        cancel: the label of the safe button.
        destructive: the action deletes or revokes something: the confirm button is red and
            focus starts on the safe choice.
    """

    CSS_PATH = stylesheet("confirm.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("escape", "close", "Cancel", show=False),
        Binding("left,right", "switch_button", "Switch button", show=False),
    ]

    def __init__(
        self,
        title: str,
        message: str,
        *,
        confirm: str | None = "Confirm",
        cancel: str = "Cancel",
        destructive: bool = False,
    ) -> None:
        super().__init__(classes="-destructive" if destructive else "")
        # The Footer names the keys as the buttons do ("y Grant access  n Cancel", not "y Yes
        # n No"); a notice's one button is "<cancel> (esc)", and so is its Footer.
        if confirm is None:
            close = Binding("escape", "close", cancel, key_display="esc")
            set_key_bindings(self, "escape", [close])
        else:
            set_key_bindings(self, "y", [Binding("y", "answer(True)", confirm)])
            set_key_bindings(self, "n", [Binding("n", "answer(False)", cancel)])
        self.title_text = title
        self.message = message
        self.confirm_label = confirm
        self.cancel_label = cancel
        self.destructive = destructive

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Content(printable(self.title_text)), id="dialog-title")
            yield Static(Content(printable(self.message, multiline=True)), id="dialog-message")
            with Horizontal(id="dialog-buttons"):
                if self.confirm_label is not None:
                    yield Button(
                        Content(f"{self.confirm_label} (y)"),
                        variant="error" if self.destructive else "primary",
                        id="confirm",
                    )
                cancel_key = "n" if self.confirm_label is not None else "esc"
                yield Button(Content(f"{self.cancel_label} ({cancel_key})"), id="cancel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        safe_first = self.destructive or self.confirm_label is None
        self.set_focus(self.query_one("#cancel" if safe_first else "#confirm", Button))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # A notice (no confirm button) has nothing to answer yes or no to: escape closes it.
        return not (action == "answer" and self.confirm_label is None)

    def action_close(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    def action_switch_button(self) -> None:
        self.focus_next(Button)

    @on(Button.Pressed, "#confirm")
    def _confirmed(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancelled(self) -> None:
        self.dismiss(False)
