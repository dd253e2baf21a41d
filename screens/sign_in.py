"""The first screen: username and password, checked with argon2 off the event loop.

It shows before the database is open (the app opens it behind this screen), so it imports
nothing of the services but their errors and takes the check as a coroutine function.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Static

from clientpay_tui.errors import AccountLocked, AuthenticationFailed, DatabaseError
from clientpay_tui.styles import stylesheet
from clientpay_tui.text import printable
from clientpay_tui.widgets.typed_input import TypedInput

if TYPE_CHECKING:
    from clientpay_tui.services.context import Actor

SignInCheck = Callable[[str, str], Awaitable["Actor"]]
"""Checks a username and password off the event loop: the staff member, or an
:class:`AuthenticationFailed` (:class:`AccountLocked`) or :class:`DatabaseError`."""


CHECKING_KEY = "Signing in with your SSH key…"
KEY_NOT_ACCEPTED = "Your SSH key does not sign you in here: enter your username and password."


class SignInScreen(Screen[None]):
    """Posts :class:`SignInScreen.SignedIn` once the password checks out."""

    CSS_PATH = stylesheet("sign_in.tcss")
    BINDINGS: ClassVar[list[BindingType]] = [
        # Enter in the username field moves to the password at once (priority), so that a
        # password typed straight after it lands there. Enter in the password field is the
        # field's own submit, which comes after every character typed before it.
        Binding("enter", "sign_in", "Sign in", priority=True),
    ]
    AUTO_FOCUS = "#username"

    class SignedIn(Message):
        def __init__(self, actor: Actor) -> None:
            super().__init__()
            self.actor = actor

    def __init__(
        self,
        firm_name: str,
        check: SignInCheck,
        *,
        username: str = "",
        notice: str = "",
        checking_key: bool = False,
    ) -> None:
        """``notice``: one line on why the staff member is here again (an idle sign-out),
        shown as plain text (it may name a payer). ``checking_key``: the SSH login's key is
        being looked up (``ssh_key_sign_in``); the fields wait for :meth:`key_not_accepted`."""
        super().__init__()
        self.notice = CHECKING_KEY if checking_key else notice
        self.checking_key = checking_key
        self.firm_name = firm_name
        self.check = check
        self.initial_username = username
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="sign-in"):
            yield Static(Content(f"Sign in to {printable(self.firm_name)}"), id="sign-in-title")
            if self.notice:
                yield Static(Content(printable(self.notice)), id="sign-in-notice")
            with Horizontal(classes="field"):
                yield Label("Username", classes="field-label")
                yield TypedInput(
                    self.initial_username,
                    id="username",
                    compact=True,
                    max_length=64,
                    disabled=self.checking_key,
                )
            with Horizontal(classes="field"):
                yield Label("Password", classes="field-label")
                yield TypedInput(
                    id="password",
                    password=True,
                    compact=True,
                    max_length=1024,
                    disabled=self.checking_key,
                )
            yield Static("", id="sign-in-error")
            with Horizontal(id="sign-in-buttons"):
                yield Button("Sign in", variant="primary", id="sign-in-button", compact=True)
        yield Footer(compact=True)

    def show_firm(self, firm_name: str) -> None:
        """The firm name from the validated settings (the first frame shows an early read)."""
        self.firm_name = firm_name
        self.query_one("#sign-in-title", Static).update(
            Content(f"Sign in to {printable(firm_name)}")
        )

    def key_not_accepted(self) -> None:
        """The SSH key signed nobody in: ask for the username and password."""
        self.checking_key = False
        self.query_one("#sign-in-notice", Static).update(Content(KEY_NOT_ACCEPTED))
        for field in self.query(TypedInput):
            field.disabled = False
        self.set_focus(self.query_one("#username", Input))

    def on_mount(self) -> None:
        if self.initial_username:
            self.set_focus(self.query_one("#password", Input))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Only from the username field: the password field and the button handle enter.
        return action != "sign_in" or self.focused is self.query_one("#username", Input)

    @on(Button.Pressed, "#sign-in-button")
    @on(Input.Submitted, "#password")
    def _submitted(self) -> None:
        self.action_sign_in()

    def action_sign_in(self) -> None:
        if self.checking_key:
            return
        username = self.query_one("#username", Input)
        password = self.query_one("#password", Input)
        if self.focused is username and not password.value:
            # At once (Widget.focus waits for a refresh): the password may be typed ahead.
            self.set_focus(password)
            return
        if not username.value.strip():
            self._show_error("Enter your username.")
            self.set_focus(username)
            return
        if not self.busy:
            self._check(username.value, password.value)

    @work(exclusive=True, group="sign-in", exit_on_error=False)
    async def _check(self, username: str, password: str) -> None:
        self.busy = True
        error = self.query_one("#sign-in-error", Static)
        error.remove_class("-error")
        error.update("Checking…")
        try:
            actor = await self.check(username, password)
        except AccountLocked as locked:
            self._show_error(f"Account locked. {locked}")
            return
        except (AuthenticationFailed, DatabaseError) as failed:
            self._show_error(str(failed))
            return
        finally:
            self.busy = False
            self.query_one("#password", Input).value = ""
        error.update("")
        self.post_message(self.SignedIn(actor))

    def _show_error(self, message: str) -> None:
        error = self.query_one("#sign-in-error", Static)
        error.add_class("-error")
        error.update(Content(printable(message)))
        self.set_focus(self.query_one("#password", Input))
