"""The base of every screen: role-aware actions, toasts that never parse data as markup, help
entries, and running blocking service calls off the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from clientpay_tui.errors import ClientPayError, PermissionDenied
from clientpay_tui.screens.wording import explain
from clientpay_tui.text import one_line
from clientpay_tui.widgets.textual_compat import bindings_for_key, end_app_with_error, key_bindings

if TYPE_CHECKING:
    # Types only: the sign-in screen and the app shell use this module before the services
    # (and SQLAlchemy) load.
    from clientpay_tui.screens.session import StaffSession
    from clientpay_tui.services.context import Permission

ResultT = TypeVar("ResultT")
T = TypeVar("T")
Severity = Literal["information", "warning", "error"]


def toast(app: App[Any], message: object, severity: Severity = "information") -> None:
    """A notification whose text is always literal (names can hold ``[`` and escape codes)."""
    timeout = 8.0 if severity == "error" else 5.0
    app.notify(one_line(message, 300), severity=severity, markup=False, timeout=timeout)


def error_toast(app: App[Any], error: ClientPayError) -> None:
    """Expected errors from the services, as a toast (a refusal by role is a warning)."""
    toast(app, explain(error), "warning" if isinstance(error, PermissionDenied) else "error")


def report_worker_error(node: DOMNode, event: Worker.StateChanged) -> None:
    """Expected errors from a worker become toasts; anything else is a bug and ends the app.

    ``Worker.StateChanged`` does not bubble, so every node that runs workers calls this.
    """
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    if isinstance(error, ClientPayError):
        error_toast(node.app, error)
    elif isinstance(error, Exception):
        end_app_with_error(node.app, error)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking service call in a thread: SQL and argon2 never stall the UI."""
    return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


@dataclass(frozen=True)
class HelpEntry:
    key: str
    description: str
    note: str | None = None
    """Why the key does nothing for this staff member (their role), if it does not."""


class ClientPayScreen(Screen[ResultT]):
    """A screen for a signed-in staff member."""

    PERMISSIONS: ClassVar[dict[str, Permission]] = {}
    """Actions of this screen that need a permission beyond viewing."""
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = []
    """Keys of widgets on the screen worth listing in Help (``(key, description)``)."""

    def __init__(self, session: StaffSession) -> None:
        super().__init__()
        self.session = session

    def denial(self, action: str) -> str | None:
        """Why the signed-in staff member may not run ``action`` here, or ``None``."""
        permission = self.PERMISSIONS.get(action)
        return self.session.denial(permission) if permission else None

    def unavailable(self, action: str) -> str | None:
        """Why ``action`` does not apply to what the screen shows now (a reset for a payer
        without a login), or ``None``. Such keys are hidden from the Footer, Help and the
        palette, and pressed anyway they say this instead of nothing."""
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.unavailable(action):
            return False  # hidden: it does not apply here now
        # None shows the key dimmed in the Footer; Help says why.
        return None if self.denial(action) else True

    def on_key(self, event: events.Key) -> None:
        """A key whose action cannot run says why instead of nothing (Textual ignores a
        hidden or disabled binding silently): it does not apply now, or the staff member's
        role forbids it. A key with another binding that runs (``r``: reset or re-send) acts."""
        reasons = []
        for binding in bindings_for_key(self, event.key):
            name = binding.action.partition("(")[0]
            reason = self.unavailable(name) or self.denial(name)
            if reason is None:
                return
            reasons.append(reason)
        if reasons:
            event.stop()
            self.toast(reasons[0], "warning")

    def palette_commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        """Commands beyond the screen's keys for the palette: ``(name, help, run)``."""
        return []

    def has_unsaved_changes(self) -> bool:
        """Whether leaving now would lose edits (the app asks before quitting)."""
        return False

    def unsaved_changes_to(self) -> str | None:
        """What leaving now would lose edits to, as the idle sign-out names it (a payer's
        name), or ``None``."""
        return None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)

    def toast(self, message: object, severity: Severity = "information") -> None:
        toast(self.app, message, severity)

    def refuse(self, action: str) -> bool:
        """Toast the reason and return True if the staff member may not run ``action``."""
        reason = self.denial(action)
        if reason:
            self.toast(reason, "warning")
        return reason is not None


def help_entries(screen: Screen[Any]) -> list[HelpEntry]:
    """Every key of ``screen`` and the app-wide keys, with the reason for any that are off."""
    app = screen.app
    entries: list[HelpEntry] = []
    seen: set[str] = set()

    def add(node: DOMNode, binding: Binding) -> None:
        # "app.focus_next" on a screen and "focus_next" on the app are the same key to a person.
        name = binding.action.removeprefix("app.")
        if not binding.description or binding.system or name in seen:
            return
        action = binding.action.partition("(")[0]
        if node.check_action(action, ()) is False:
            return  # not offered in this state (e.g. "Re-send" instead of "Reset")
        seen.add(name)
        note = node.denial(action) if isinstance(node, ClientPayScreen) else None
        entries.append(
            HelpEntry(app.get_key_display(binding), binding.tooltip or binding.description, note)
        )

    for _key, bindings in key_bindings(screen):
        for binding in bindings:
            add(screen, binding)
    extra = screen.HELP_EXTRA if isinstance(screen, ClientPayScreen) else []
    entries.extend(HelpEntry(key, description) for key, description in extra)
    for _key, bindings in key_bindings(app):
        for binding in bindings:
            add(app, binding)
    return entries
