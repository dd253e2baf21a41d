"""The Payer Information tab: editable fields, the Login Access switch and its buttons.

The pane only shows and collects; the screen decides what the buttons and the switch do.
Fields show the record as it was loaded (``baseline``); a newer load replaces them only while
nothing was edited, so that an open edit is never overwritten and its save still detects
someone else's change.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static, Switch, TextArea

from clientpay_tui.services.payers import AccessStatus, PayerDetail, PayerForm
from clientpay_tui.text import printable
from clientpay_tui.widgets.formatting import access_summary, last_email_line, only_invited
from clientpay_tui.widgets.typed_input import TypedInput, TypedTextArea


def _field(value: str | None) -> str:
    return printable(value or "")


def _notes(value: str | None) -> str:
    return printable(value or "", multiline=True)


class PayerInfoPane(Vertical):
    """Fields, access controls and an error line for one payer."""

    def __init__(self, detail: PayerDetail, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.baseline = detail
        self.current = detail

    def compose(self) -> ComposeResult:
        detail = self.baseline
        with Horizontal(classes="field"):
            yield Label("Name", classes="field-label")
            yield TypedInput(_field(detail.name), id="name", compact=True, max_length=200)
        with Horizontal(classes="field"):
            yield Label("Email", classes="field-label")
            yield TypedInput(_field(detail.email), id="email", compact=True, max_length=254)
        with Horizontal(classes="field"):
            yield Label("Phone", classes="field-label")
            yield TypedInput(_field(detail.phone), id="phone", compact=True, max_length=40)
        with Horizontal(classes="field notes"):
            yield Label("Notes", classes="field-label")
            yield TypedTextArea(_notes(detail.notes), id="notes", compact=True, soft_wrap=True)
        with Horizontal(id="access-row"):
            yield Label("Login Access", id="access-label")
            yield Switch(detail.login is not None, id="login-access")
            yield Static("", id="access-status")
        yield Static("", id="last-email")
        with Horizontal(id="mfa-row"):
            yield Label("MFA exempt", id="mfa-label")
            yield Switch(detail.mfa_exempt, id="mfa-exempt")
            yield Static("", id="mfa-status")
        with Horizontal(id="info-buttons"):
            yield Button("Delete Login", variant="error", id="delete-login", compact=True)
            yield Button("Password Reset", variant="primary", id="reset", compact=True)
            yield Button("Unlock", id="unlock", compact=True)
            yield Static("", id="dirty-marker")
            yield Button("Save ^s", id="save", compact=True)
        yield Static("", id="form-error", classes="error-line")

    # -- showing ----------------------------------------------------------------------------

    def show(self, detail: PayerDetail, now: datetime, *, replace_fields: bool = False) -> None:
        """Show a freshly loaded record: status always, fields only while not edited (or when
        ``replace_fields`` discards the edits)."""
        self.current = detail
        if replace_fields or not self.is_dirty():
            self.baseline = detail
            self.query_one("#name", Input).value = _field(detail.name)
            self.query_one("#email", Input).value = _field(detail.email)
            self.query_one("#phone", Input).value = _field(detail.phone)
            self.query_one("#notes", TextArea).text = _notes(detail.notes)
        switch = self.query_one("#login-access", Switch)
        with switch.prevent(Switch.Changed):
            switch.value = detail.login is not None
        self.query_one("#access-status", Static).update(access_summary(detail, now))
        exempt = self.query_one("#mfa-exempt", Switch)
        with exempt.prevent(Switch.Changed):
            exempt.value = detail.mfa_exempt
        self.query_one("#mfa-status", Static).update(
            "Signs in to the portal without the emailed code"
            if detail.mfa_exempt
            else "Enters the emailed code when the portal asks for one"
        )
        self.query_one("#last-email", Static).update(
            last_email_line(detail.last_email, detail.email)
        )
        has_login = detail.login is not None
        self.query_one("#delete-login", Button).display = has_login
        reset = self.query_one("#reset", Button)
        reset.display = has_login
        reset.label = Content("Re-send Welcome" if only_invited(detail) else "Password Reset")
        self.query_one("#unlock", Button).display = detail.status == AccessStatus.LOCKED
        self.refresh_dirty()

    def permit(self, control_id: str, reason: str | None) -> None:
        """Disable a control the staff member may not use, with the reason as its tooltip."""
        widget = self.query_one(f"#{control_id}")
        widget.disabled = reason is not None
        widget.tooltip = reason

    def show_error(self, message: str | None) -> None:
        self.query_one("#form-error", Static).update(Content(printable(message or "")))

    def refresh_dirty(self) -> None:
        if not self.is_dirty():
            marker = ""
        elif self.current.version != self.baseline.version:
            marker = "● unsaved · changed elsewhere"
        else:
            marker = "● unsaved changes"
        self.query_one("#dirty-marker", Static).update(marker)

    def on_input_changed(self) -> None:
        self.refresh_dirty()
        self.show_error(None)

    def on_text_area_changed(self) -> None:
        self.refresh_dirty()

    # -- reading ----------------------------------------------------------------------------

    def form(self) -> PayerForm:
        """The fields as typed (the service validates them)."""
        return PayerForm(
            name=self.query_one("#name", Input).value,
            email=self.query_one("#email", Input).value or None,
            phone=self.query_one("#phone", Input).value or None,
            notes=self.query_one("#notes", TextArea).text or None,
        )

    def is_dirty(self) -> bool:
        if not self.is_mounted:
            return False
        form, base = self.form(), self.baseline
        return (
            form.name != _field(base.name)
            or (form.email or "") != _field(base.email)
            or (form.phone or "") != _field(base.phone)
            or (form.notes or "") != _notes(base.notes)
        )

    def email_edited(self) -> bool:
        """The email field differs from the stored address (access would go elsewhere)."""
        return (self.form().email or "") != _field(self.current.email)
