"""``m``: the outbox (queued, sending, sent, failed) with retry; in demo mode also the text of
every message the local capture server received."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Footer, Header, Label, Static, TabbedContent, TabPane

from clientpay_tui.enums import EmailStatus
from clientpay_tui.messages import DataChanged, MailDelivered
from clientpay_tui.screens.base import ClientPayScreen, call
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.services.context import Actor, Permission
from clientpay_tui.services.facade import Services
from clientpay_tui.services.outbox import OutboxRow
from clientpay_tui.styles import stylesheet
from clientpay_tui.text import printable
from clientpay_tui.widgets.formatting import stamp
from clientpay_tui.widgets.paged_table import Column, ListSource, PagedTable

if TYPE_CHECKING:
    # The demo's capture server (aiosmtpd) loads only in demo mode.
    from clientpay_tui.mail.capture import CapturedMessage

FILTERS: list[EmailStatus | None] = [None, *EmailStatus]
SHORT_KINDS = {
    "welcome": "Welcome",
    "reset": "Reset",
    "access_added": "Notice",
    "password_changed": "Pw chg",
    "login_moved": "Moved",
    "invite_reminder": "Reminder",
}
LINK_KINDS = ("welcome", "reset", "invite_reminder")
"""A retry of these goes with a fresh link (the service revokes the old one)."""
STATUS_STYLE = {"failed": "bold reverse", "queued": "bold", "sending": "italic", "sent": ""}

OUTBOX_COLUMNS: list[Column[OutboxRow]] = [
    Column("Queued (UTC)", lambda e: stamp(e.created_at), width=16),
    Column("To", lambda e: e.to_address, ratio=3),
    Column("Kind", lambda e: SHORT_KINDS.get(e.kind.value, e.kind.value), width=8),
    Column("Status", lambda e: Text(e.status.value, style=STATUS_STYLE[e.status.value]), width=7),
    Column("Tries", lambda e: str(e.attempts), width=5, justify="right"),
    Column("Last error", lambda e: e.last_error or "", ratio=2),
]
CAPTURED_COLUMNS: list[Column[CapturedMessage]] = [
    Column("Received", lambda m: stamp(m.date), width=16),
    Column("To", lambda m: m.to, ratio=2),
    Column("Subject", lambda m: m.subject, ratio=3),
]


@dataclass(frozen=True)
class OutboxSource:
    """The outbox, newest first, optionally one status only."""

    services: Services
    actor: Actor
    status: EmailStatus | None

    def count(self) -> tuple[int, bool]:
        counts = self.services.outbox.counts(self.actor)
        total = counts[self.status] if self.status else sum(counts.values())
        return total, False

    def fetch(self, offset: int, limit: int) -> Sequence[OutboxRow]:
        return self.services.outbox.list(self.actor, self.status, offset, limit)


def describe(email: OutboxRow | None) -> Content:
    """The highlighted email in full, most useful lines first."""
    if email is None:
        return Content("")
    when = (
        f"Sent {stamp(email.sent_at)} UTC"
        if email.sent_at
        else f"Next attempt {stamp(email.next_attempt_at)} UTC"
    )
    lines = [
        f"Subject: {email.subject}",
        f"To: {email.to_name} <{email.to_address}>",
        f"Last error: {email.last_error}" if email.last_error else when,
        f"{when} · Message-ID {email.message_id}" if email.last_error else email.message_id,
    ]
    return Content(printable("\n".join(lines), multiline=True))


class MailScreen(ClientPayScreen[None]):
    CSS_PATH = stylesheet("mail.tcss")
    HELP_TITLE = "Mail"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Short descriptions: the Footer must fit 80 columns; Help shows the tooltips.
        Binding(
            "r",
            "retry",
            "Retry",
            tooltip="Queue the highlighted failed email again (a welcome or reset with a new link)",
        ),
        Binding("s", "cycle_filter", "Filter", tooltip="Show all, queued, sending, sent, failed"),
        Binding("f5", "refresh", "Refresh", tooltip="Read the outbox again"),
        Binding("c", "toggle_captured", "Captured", tooltip="Outbox / captured mail (demo)"),
        Binding("escape", "back", "Back"),
    ]
    PERMISSIONS: ClassVar[dict[str, Permission]] = {"retry": Permission.SEND_RESET}
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [
        ("↑ ↓", "Move in the table; the highlighted email's details show below it"),
    ]
    AUTO_FOCUS = "#outbox"

    def __init__(self, session: StaffSession) -> None:
        super().__init__(session)
        self.filter_index = 0
        self.outbox: PagedTable[OutboxRow] = PagedTable(
            OUTBOX_COLUMNS,
            id="outbox",
            empty_text="No emails.",
            row_key=lambda row: row.id,
            show_highlighted=self._show_email,
        )
        self.captured: PagedTable[CapturedMessage] = PagedTable(
            CAPTURED_COLUMNS,
            id="captured",
            empty_text="Nothing captured yet.",
            show_highlighted=self._show_message,
        )

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="mail-tabs"):
            with TabPane("Outbox", id="outbox-tab"):
                with Horizontal(id="outbox-bar"):
                    yield Label("", id="outbox-counts")
                    yield Label("", id="outbox-filter")
                yield self.outbox
                yield Static("", id="outbox-detail")
            if self.session.captured_mail is not None:
                with TabPane("Captured (demo)", id="captured-tab"):
                    portal = self.session.services.settings.portal_url
                    yield Static(
                        Content(f"Payer portal: {portal} (the links below open there)"),
                        id="portal-url",
                    )
                    yield self.captured
                    with VerticalScroll(id="captured-text-box"):
                        yield Static("", id="captured-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.action_refresh()

    @property
    def status_filter(self) -> EmailStatus | None:
        return FILTERS[self.filter_index]

    def action_refresh(self) -> None:
        self.outbox.load(
            OutboxSource(self.session.services, self.session.actor, self.status_filter)
        )
        label = self.status_filter.value if self.status_filter else "all"
        self.query_one("#outbox-filter", Label).update(f"showing {label} (s)")
        self._counts()
        if self.session.captured_mail is not None:
            self._load_captured()

    @work(group="counts", exclusive=True, exit_on_error=False)
    async def _counts(self) -> None:
        counts = await call(self.session.services.outbox.counts, self.session.actor)
        text = " · ".join(f"{status.value} {counts[status]:,}" for status in EmailStatus)
        self.query_one("#outbox-counts", Label).update(text)

    @work(group="captured", exclusive=True, exit_on_error=False)
    async def _load_captured(self) -> None:
        assert self.session.captured_mail is not None
        messages = await call(self.session.captured_mail)
        self.captured.load(ListSource(messages))  # newest first

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_captured" and self.session.captured_mail is None:
            return False  # only the demo captures mail
        return super().check_action(action, parameters)

    def action_toggle_captured(self) -> None:
        tabs = self.query_one(TabbedContent)
        showing_outbox = tabs.active == "outbox-tab"
        tabs.active = "captured-tab" if showing_outbox else "outbox-tab"
        self.set_focus(self.captured if showing_outbox else self.outbox)

    def action_cycle_filter(self) -> None:
        self.filter_index = (self.filter_index + 1) % len(FILTERS)
        self.action_refresh()

    @work(group="retry", exclusive=True, exit_on_error=False)
    async def action_retry(self) -> None:
        if self.refuse("retry"):
            return
        email = self.outbox.highlighted
        if email is None or email.status != EmailStatus.FAILED:
            self.toast("Highlight a failed email to retry it.", "warning")
            return
        # A refusal (the login was deleted or moved, the email limit) is a one-line toast.
        row = await call(self.session.services.outbox.retry, self.session.actor, email.id)
        self.session.poke_mailer()
        if row.kind.value in LINK_KINDS:
            self.toast(
                f"Queued the {row.kind.value} email to {row.to_address} again, with a new link."
            )
        else:
            self.toast(f"Queued the email to {row.to_address} again.")
        self.outbox.reload()
        self._counts()

    def action_back(self) -> None:
        self.dismiss(None)

    def _show_email(self, email: OutboxRow | None) -> None:
        self.query_one("#outbox-detail", Static).update(describe(email))

    def _show_message(self, message: CapturedMessage | None) -> None:
        text = (
            ""
            if message is None
            else (
                f"From: {message.sender}\nTo: {message.to}\nSubject: {message.subject}\n\n"
                f"{message.text}"
            )
        )
        self.query_one("#captured-text", Static).update(Content(printable(text, multiline=True)))

    def on_mail_delivered(self, _message: MailDelivered) -> None:
        self.outbox.reload()
        self._counts()
        if self.session.captured_mail is not None:
            self._load_captured()

    def on_screen_resume(self, _event: Any) -> None:
        self.action_refresh()

    def on_data_changed(self, message: DataChanged) -> None:
        # Another session queued, or a sender delivered, an email: show it.
        if self.is_current and message.changes.touches_kind("outbox"):
            self.outbox.reload()
            self._counts()
