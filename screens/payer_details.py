"""One payer: Payer Information (fields and Login Access) and the read-only tabs."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.lazy import Lazy
from textual.widgets import Button, Footer, Header, Switch, TabbedContent, TabPane, Tabs

from clientpay_tui.errors import AccessStateError, NotFound
from clientpay_tui.messages import DataChanged, MailDelivered
from clientpay_tui.screens import access_flow
from clientpay_tui.screens.add_associations import AddAssociationsScreen
from clientpay_tui.screens.base import ClientPayScreen, call
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_info import PayerInfoPane
from clientpay_tui.screens.payer_page import PayerPage
from clientpay_tui.screens.payer_tabs import (
    DataPane,
    associations_pane,
    detail_panes,
    load_tabs,
    show_tabs,
)
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.screens.wording import explain, no_login
from clientpay_tui.services.associations import AssociationRow, CreateResult, Level
from clientpay_tui.services.context import Permission
from clientpay_tui.services.payers import AccessStatus, PayerDetail
from clientpay_tui.styles import stylesheet
from clientpay_tui.text import plural
from clientpay_tui.widgets.formatting import only_invited


class PayerDetailsScreen(ClientPayScreen[None]):
    """Tabs for one payer; ``escape`` goes back (asking first if edits are unsaved)."""

    CSS_PATH = stylesheet("payer_details.tcss")
    HELP_TITLE = "Payer details"
    BINDINGS: ClassVar[list[BindingType]] = [
        # Short descriptions: the Footer must fit 80 columns. Help and the palette show the
        # tooltips.
        Binding("l", "toggle_login", "Login", tooltip="Toggle Login Access (asks first)"),
        Binding("r", "reset", "Reset", tooltip="Send a password reset email (asks first)"),
        Binding("r", "resend", "Resend", tooltip="Re-send the welcome email (asks first)"),
        Binding("d", "delete_login", "Delete", tooltip="Delete the login (asks first)"),
        Binding("u", "unlock", "Unlock", tooltip="Unlock a login locked by failed sign-ins"),
        Binding("a", "add_associations", "Assoc", tooltip="Add associations"),
        Binding(
            "x,delete",
            "remove_association",
            "Remove",
            key_display="x",
            tooltip="Remove the highlighted association (asks first)",
        ),
        # Not priority: from a field, ctrl+s then comes after every character typed before it.
        Binding("ctrl+s", "save", "Save", tooltip="Save the payer's fields"),
        Binding("escape", "back", "Back", tooltip="Back to the list (asks if unsaved)"),
        # Straight to a tab from anywhere but a text field (where digits are typed).
        *(Binding(str(n), f"show_tab({n - 1})", show=False) for n in range(1, 7)),
    ]
    PERMISSIONS: ClassVar[dict[str, Permission]] = {
        "reset": Permission.SEND_RESET,
        "resend": Permission.SEND_RESET,
        "delete_login": Permission.DELETE_LOGIN,
        "unlock": Permission.SEND_RESET,
        "add_associations": Permission.MANAGE_ASSOCIATIONS,
        "remove_association": Permission.MANAGE_ASSOCIATIONS,
        "save": Permission.EDIT_PAYERS,
        "mfa_exempt": Permission.EDIT_PAYERS,
    }
    HELP_EXTRA: ClassVar[list[tuple[str, str]]] = [
        ("1 … 6", "Go to the 1st … 6th tab (outside text fields)"),
        ("← →", "Switch tabs (when the tab bar has focus)"),
        ("space", "Toggle the focused switch, press the focused button"),
    ]

    def __init__(self, session: StaffSession, page: PayerPage) -> None:
        super().__init__(session)
        self.detail = page.detail
        self.connect = page.connect
        self.info = PayerInfoPane(page.detail, id="info")
        self.panes: dict[str, DataPane[Any]] = {}
        self.tabs_loaded = False
        """The read-only tabs show the latest load (tests and benchmarks wait for it)."""

    @property
    def now(self) -> Any:
        return self.session.services.ctx.clock()

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="payer-tabs"):
            with TabPane("Payer Information", id="info-tab"):
                yield self.info
            if self.connect:
                # Not composed at all without Connect: a hidden tab could still be activated.
                pane = associations_pane()
                self.panes["associations"] = pane
                with TabPane("Associations", id="associations-tab"):
                    yield Lazy(pane)
            for key, (title, pane) in detail_panes().items():
                self.panes[key] = pane
                with TabPane(title, id=f"{key}-tab"):
                    # Hidden at first: mounted after the first paint, so the payer shows sooner.
                    yield Lazy(pane)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._apply_roles()
        self.info.show(self.detail, self.now)
        self.set_focus(self.query_one(Tabs))
        self._load_tabs()

    def _apply_roles(self) -> None:
        self.info.permit("login-access", self.denial("toggle_login"))
        self.info.permit("delete-login", self.denial("delete_login"))
        self.info.permit("reset", self.denial("reset"))
        self.info.permit("unlock", self.denial("unlock"))
        self.info.permit("save", self.denial("save"))
        self.info.permit("mfa-exempt", self.denial("mfa_exempt"))
        for field in ("name", "email", "phone", "notes"):
            self.info.permit(field, self.denial("save"))

    # -- roles and state --------------------------------------------------------------------

    def denial(self, action: str) -> str | None:
        if action == "toggle_login":
            needed = Permission.DELETE_LOGIN if self.detail.login else Permission.GRANT_ACCESS
            return self.session.denial(needed)
        return super().denial(action)

    def unavailable(self, action: str) -> str | None:
        name = self.detail.name
        if action in ("reset", "resend", "delete_login", "unlock") and self.detail.login is None:
            return no_login(name)
        invited = only_invited(self.detail)
        if action == "reset" and invited:
            return "Not accepted yet: r re-sends the welcome email."  # the pair's other acts
        if action == "resend" and not invited:
            return "Already accepted: r sends a password reset."
        if action == "unlock" and self.detail.status != AccessStatus.LOCKED:
            return f"The login of {name} is not locked."
        if action == "add_associations" and not self.connect:
            return "Associations need the Connect integration, which is off."
        if action == "remove_association" and not self._on_associations_tab():
            return "x removes an association on the Associations tab (press 2)."
        return None

    def has_unsaved_changes(self) -> bool:
        return self.info.is_dirty()

    def unsaved_changes_to(self) -> str | None:
        return self.detail.name if self.info.is_dirty() else None

    async def ask(self, dialog: ConfirmScreen) -> bool:
        """Show a dialog and wait for the answer (inside a worker)."""
        answer: bool = await self.app.push_screen_wait(dialog)
        return bool(answer)

    async def reload(
        self, *, discard_edits: bool = False, detail: PayerDetail | None = None
    ) -> None:
        """Show the payer as stored now; edits in the fields survive unless discarded."""
        if detail is None:
            detail = await call(
                self.session.services.payers.get, self.session.actor, self.detail.id
            )
        self.detail = detail
        self.info.show(detail, self.now, replace_fields=discard_edits)
        self._apply_roles()
        self.refresh_bindings()
        self._load_tabs()

    @work(group="payer-tabs", exclusive=True, exit_on_error=False)
    async def _load_tabs(self) -> None:
        self.tabs_loaded = False
        data = await call(load_tabs, self.session, self.detail.id, self.connect)
        show_tabs(self.panes, data)
        self.tabs_loaded = True

    # -- actions ----------------------------------------------------------------------------

    async def _unless_stale(self, flow: Awaitable[None]) -> None:
        """Run an access flow; if the service refuses it because the screen showed an old
        state (another session granted or deleted the login first), say so and show the
        payer as stored now."""
        try:
            await flow
        except AccessStateError as stale:
            self.toast(explain(stale), "warning")
            await self.reload()

    @work(group="access", exclusive=True, exit_on_error=False)
    async def action_toggle_login(self) -> None:
        if self.refuse("toggle_login"):
            return
        if self.detail.login is None:
            await self._unless_stale(access_flow.grant(self))
        else:
            await self._unless_stale(access_flow.delete_login(self))

    @work(group="access", exclusive=True, exit_on_error=False)
    async def action_delete_login(self) -> None:
        if not self.refuse("delete_login"):
            await self._unless_stale(access_flow.delete_login(self))

    @work(group="access", exclusive=True, exit_on_error=False)
    async def action_reset(self) -> None:
        if not self.refuse("reset"):
            await self._unless_stale(access_flow.send_reset(self))

    @work(group="access", exclusive=True, exit_on_error=False)
    async def action_unlock(self) -> None:
        if not self.refuse("unlock"):
            await self._unless_stale(access_flow.unlock(self))

    async def action_resend(self) -> None:
        self.action_reset()

    @work(group="access", exclusive=True, exit_on_error=False)
    async def action_save(self) -> None:
        if not self.refuse("save"):
            await access_flow.save(self)

    def action_add_associations(self) -> None:
        """``a``: search the firm's invoices and associate some with this payer."""
        if self.refuse("add_associations"):
            return
        self.app.push_screen(
            AddAssociationsScreen(self.session, self.detail.id, self.detail.name),
            self.associations_changed,
        )

    def _on_associations_tab(self) -> bool:
        if not self.connect or not self.is_mounted:
            return False
        return self.query_one(TabbedContent).active == "associations-tab"

    @work(group="associations", exclusive=True, exit_on_error=False)
    async def action_remove_association(self) -> None:
        if self.refuse("remove_association") or not self._on_associations_tab():
            return
        pane = self.panes["associations"]
        row = pane.table.highlighted
        if not isinstance(row, AssociationRow):
            self.toast("No association is highlighted.", "warning")
            return
        covers = plural(row.invoice_count, "invoice")
        if row.level != Level.INVOICE:
            covers += " now, and any added to it later"
        if not await self.ask(
            ConfirmScreen(
                "Remove association?",
                f"{self.detail.name} will no longer see {row.target} in the portal ({covers}).",
                confirm="Remove",
                cancel="Keep it",
                destructive=True,
            )
        ):
            return
        try:
            target = await call(
                self.session.services.associations.remove,
                self.session.actor,
                self.detail.id,
                row.id,
            )
        except NotFound as gone:  # removed elsewhere meanwhile: show what is left
            self.toast(gone, "warning")
        else:
            self.toast(f"Removed {target}.")
        self.associations_changed()

    def associations_changed(self, result: object = None) -> None:
        """Associations were added or removed: refresh the tabs that show them. After Create
        Association the Associations tab comes to the front, its new rows (newest first) at
        the top, as the original product's help promises."""
        if isinstance(result, CreateResult) and self._has_associations_tab():
            self.query_one(TabbedContent).active = "associations-tab"
            table = self.panes["associations"].table
            table.cursor_row = 0
            # After the add screen has gone and the (lazily mounted) pane is in place.
            self.call_after_refresh(self.set_focus, table)
        self._load_tabs()

    def _has_associations_tab(self) -> bool:
        return self.connect and self.is_mounted and "associations" in self.panes

    def action_show_tab(self, index: int) -> None:
        """Show the tab at ``index`` (0-based) and put the focus on the tab bar, so that the
        arrows go on from there and nothing hidden keeps the focus."""
        panes = list(self.query_one(TabbedContent).query(TabPane))
        pane_id = panes[index].id if 0 <= index < len(panes) else None
        if pane_id:
            self.query_one(TabbedContent).active = pane_id
            self.set_focus(self.query_one(Tabs))

    @work(group="leave", exclusive=True, exit_on_error=False)
    async def action_back(self) -> None:
        if self.info.is_dirty():
            leave = await self.ask(
                ConfirmScreen(
                    "Discard unsaved changes?",
                    f"You changed {self.detail.name} and did not save. Going back discards "
                    "those edits.",
                    confirm="Discard changes",
                    cancel="Keep editing",
                    destructive=True,
                )
            )
            if not leave:
                return
        self.dismiss(None)

    # -- events -----------------------------------------------------------------------------

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        self.refresh_bindings()  # "x" (remove) belongs to the Associations tab
        # Where the toasts go (styles/payer_details.tcss): not over the fields they name.
        self.set_class(self.query_one(TabbedContent).active == "info-tab", "-information")

    @on(Switch.Changed, "#login-access")
    def _switch_flipped(self, event: Switch.Changed) -> None:
        # The switch shows the stored state: put it back, then let the flow (and its
        # dialog) decide; a reload after the flow sets it to what really happened.
        with event.switch.prevent(Switch.Changed):
            event.switch.value = self.detail.login is not None
        self.action_toggle_login()

    @on(Switch.Changed, "#mfa-exempt")
    def _mfa_flipped(self, event: Switch.Changed) -> None:
        # Shows the stored value until the service has changed it (the reload sets it).
        wanted = event.value
        with event.switch.prevent(Switch.Changed):
            event.switch.value = self.detail.mfa_exempt
        self._set_mfa_exempt(wanted)

    @work(group="access", exclusive=True, exit_on_error=False)
    async def _set_mfa_exempt(self, exempt: bool) -> None:
        if self.refuse("mfa_exempt"):
            return
        services, actor = self.session.services, self.session.actor
        await call(services.access.set_mfa_exempt, actor, self.detail.id, exempt)
        await self.reload()
        self.toast(
            f"{self.detail.name} signs in without the emailed code."
            if exempt
            else f"{self.detail.name} enters the emailed code at sign-in again."
        )

    @on(Button.Pressed, "#delete-login")
    def _delete_pressed(self) -> None:
        self.action_delete_login()

    @on(Button.Pressed, "#reset")
    def _reset_pressed(self) -> None:
        self.action_reset()

    @on(Button.Pressed, "#unlock")
    def _unlock_pressed(self) -> None:
        self.action_unlock()

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    def on_mail_delivered(self, message: MailDelivered) -> None:
        if message.result.payer_id == self.detail.id:
            self.run_worker(self.reload(), group="mail-reload", exclusive=True)

    def on_data_changed(self, message: DataChanged) -> None:
        login = self.detail.login
        if message.changes.touches_payer(self.detail.id, login.login_id if login else None):
            self._reload_changed()

    @work(group="live-reload", exclusive=True, exit_on_error=False)
    async def _reload_changed(self) -> None:
        """Someone else changed this payer: show it; unsaved edits stay in the fields."""
        seen = self.detail.version
        await self.reload()
        if self.info.is_dirty() and self.detail.version != seen:
            # One short line: the marker beside Save says it for as long as it holds.
            self.toast("Changed elsewhere; your edits are kept.", "warning")
