"""``n`` on the payer list: a new payer record (no login yet; grant access from its details)."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Footer, Header, Input, Label, Static, TextArea

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.screens.base import ClientPayScreen, call
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.services.context import Permission
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.styles import stylesheet
from clientpay_tui.text import printable
from clientpay_tui.widgets.typed_input import TypedInput, TypedTextArea


class NewPayerScreen(ClientPayScreen[int | None]):
    """Dismisses the new payer's id, or ``None`` if nothing was created."""

    CSS_PATH = stylesheet("payer_form.tcss")
    HELP_TITLE = "New payer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "create", "Create"),  # after the characters typed before it
        Binding("escape", "back", "Back"),
    ]
    PERMISSIONS: ClassVar[dict[str, Permission]] = {"create": Permission.EDIT_PAYERS}
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [("tab", "Next field (shift+tab: previous)")]
    AUTO_FOCUS = "#name"

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="new-payer"):
            yield Static("New payer", id="new-payer-title")
            for field, label, limit in (("name", "Name", 200), ("email", "Email", 254)):
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    yield TypedInput(id=field, compact=True, max_length=limit)
            with Horizontal(classes="field"):
                yield Label("Phone", classes="field-label")
                yield TypedInput(id="phone", compact=True, max_length=40)
            with Horizontal(classes="field notes"):
                yield Label("Notes", classes="field-label")
                yield TypedTextArea(id="notes", compact=True, soft_wrap=True)
            yield Static(
                "The payer gets no login until you switch Login Access on in their details.",
                classes="muted",
            )
            yield Static("", id="form-error", classes="error-line")
            with Horizontal(id="form-buttons"):
                yield Button("Create ^s", variant="primary", id="create", compact=True)
        yield Footer(compact=True)

    def form(self) -> PayerForm:
        return PayerForm(
            name=self.query_one("#name", Input).value,
            email=self.query_one("#email", Input).value or None,
            phone=self.query_one("#phone", Input).value or None,
            notes=self.query_one("#notes", TextArea).text or None,
        )

    def has_unsaved_changes(self) -> bool:
        form = self.form()
        return any((form.name, form.email, form.phone, form.notes))

    def unsaved_changes_to(self) -> str | None:
        if not self.has_unsaved_changes():
            return None
        name = self.form().name.strip()
        return f"the new payer {name}" if name else "a new payer"

    @on(Button.Pressed, "#create")
    def _pressed(self) -> None:
        self.action_create()

    @on(Input.Changed)
    def _edited(self) -> None:
        self.query_one("#form-error", Static).update("")

    @work(group="create", exclusive=True, exit_on_error=False)
    async def action_create(self) -> None:
        if self.refuse("create"):
            return
        try:
            detail = await call(
                self.session.services.payers.create, self.session.actor, self.form()
            )
        except ValidationFailed as invalid:
            self.query_one("#form-error", Static).update(Content(printable(str(invalid))))
            self.toast(invalid, "error")
            return
        self.toast(f"Created payer {detail.name}.")
        self.dismiss(detail.id)

    @work(group="leave", exclusive=True)
    async def action_back(self) -> None:
        if self.has_unsaved_changes() and not await self.app.push_screen_wait(
            ConfirmScreen(
                "Discard the new payer?",
                "You typed a new payer and did not create it. Going back discards it.",
                confirm="Discard",
                cancel="Keep editing",
                destructive=True,
            )
        ):
            return
        self.dismiss(None)
