"""The Textual application: wiring, app-wide keys, sign-in, mail delivery and its toasts.

The sign-in screen paints before the database is open: ``clientpay-tui`` hands the app a
function that opens it, which runs in a thread after the first frame while the staff member
types. That is why this module imports only Textual and the light screens at the top, and
the signed-in screens (which bring the services and SQLAlchemy: ~300 ms of imports) inside the
methods that first need them (imported in a thread once the password checks out).
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.screen import Screen
from textual.worker import Worker

from clientpay_tui import terminal_fit
from clientpay_tui.errors import ClientPayError
from clientpay_tui.hang_up_app import HangUpApp
from clientpay_tui.held_keys import HeldKeys, ReleaseKeys
from clientpay_tui.mail.delivery import Mailer
from clientpay_tui.messages import DataChanged, OpenPayer
from clientpay_tui.screens.base import (
    ClientPayScreen,
    call,
    help_entries,
    report_worker_error,
)
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.help import HelpScreen
from clientpay_tui.screens.sign_in import SignInScreen
from clientpay_tui.styles import stylesheet
from clientpay_tui.text import printable
from clientpay_tui.themes import DARK, LIGHT

if TYPE_CHECKING:
    # The demo's capture server (aiosmtpd) loads only in demo mode.
    from clientpay_tui.mail.capture import CapturedMessage
    from clientpay_tui.screens.session import StaffSession
    from clientpay_tui.services.context import Actor
    from clientpay_tui.services.facade import Services

SIGNED_IN_MODULES = (
    "clientpay_tui.screens.payer_list",
    "clientpay_tui.screens.payer_details",
    "clientpay_tui.screens.commands",
    "clientpay_tui.widgets.formatting",
)
"""What the screens after sign-in import: loaded in a thread once the password checks out."""


@dataclass(frozen=True)
class Opened:
    """The configured database, opened: its services and the mailer that delivers its outbox
    (``None``: mail stays queued for ``clientpay-tui worker`` or another session)."""

    services: Services
    mailer: Mailer | None = None
    key_actor: Actor | None = None
    """Who the SSH login's key signed in (``ssh_key_sign_in``), or ``None``: ask for the
    password."""


def _payer_commands() -> type[Provider]:
    from clientpay_tui.screens.commands import PayerCommands

    return PayerCommands


def _screen_commands() -> type[Provider]:
    from clientpay_tui.screens.commands import ScreenCommands

    return ScreenCommands


class ClientPayApp(HangUpApp):
    """Staff side of the payer portal.

    Args:
        services: the service layer on the configured database (or ``None`` with
            ``open_services``).
        mailer: delivers the outbox while the app runs (``None``: mail stays queued for
            ``clientpay-tui worker`` or another session).
        firm_name: with ``open_services``: the name the sign-in screen shows before the
            settings load (they may correct it).
        open_services: opens the database in a thread after the first frame. An expected
            error (:class:`ClientPayError`: unreachable, outdated, no staff) ends the app
            with return code 1 and is kept in :attr:`startup_error` for the command line.
        actor: skip the sign-in screen (demo mode signs in as the demo admin).
        captured_mail: demo mode: lists what the local capture server received.
        sign_in_hint: a line the sign-in screen shows after Sign out (the demo names its
            staff accounts and their password).
        handle_sighup: end the app cleanly when the terminal (an SSH session) goes away: on
            SIGHUP, and when its input hangs up without one.
        checking_key: ``open_services`` looks up the SSH login's key (``ssh_key_sign_in``):
            the sign-in screen waits for its answer instead of asking for a password.
        idle_clock, idle_check_seconds: see :class:`IdleSignOutApp`.
        live_refresh: follow what other sessions, the portal and the worker change, so that
            open screens show it within a second (off: screens reload on their own actions
            and when shown again).
    """

    CSS_PATH = stylesheet("app.tcss")
    COMMANDS = App.COMMANDS | {_payer_commands, _screen_commands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # Priority: the focus moves before the next keys are dispatched, so that typing
        # ahead ("name<tab>email", or keys a laggy SSH link delivers at once) lands in the
        # field it was meant for.
        Binding("tab", "focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True),
    ]
    NOTIFICATION_TIMEOUT = 5

    def __init__(
        self,
        services: Services | None = None,
        mailer: Mailer | None = None,
        *,
        firm_name: str | None = None,
        open_services: Callable[[], Opened] | None = None,
        actor: Actor | None = None,
        captured_mail: Callable[[], Sequence[CapturedMessage]] | None = None,
        sign_in_hint: str = "",
        handle_sighup: bool = True,
        checking_key: bool = False,
        idle_clock: Callable[[], float] = time.monotonic,
        idle_check_seconds: float | None = None,
        live_refresh: bool = True,
    ) -> None:
        super().__init__(
            mailer,
            handle_sighup=handle_sighup,
            idle_clock=idle_clock,
            idle_check_seconds=idle_check_seconds,
        )
        self.live_refresh = live_refresh
        if (services is None) == (open_services is None):
            raise TypeError("give either services or open_services")
        if services is not None:
            firm_name = services.settings.firm_name
        self.firm_name = firm_name or ""
        self.services = services
        self.open_services = open_services
        self.startup_error: ClientPayError | None = None
        self.initial_actor = actor
        self.captured_mail = captured_mail
        self.sign_in_hint = sign_in_hint
        self.checking_key = checking_key
        self.session: StaffSession | None = None
        self._services_ready = asyncio.Event()
        self._held_keys = HeldKeys()
        self.title = f"ClientPay · {printable(self.firm_name)}"
        self.register_theme(DARK)
        self.register_theme(LIGHT)
        self.theme = DARK.name
        self.set_class(terminal_fit.low_colour(self.console), terminal_fit.LOW_COLOUR_CLASS)

    # -- start and stop ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self.watch_hang_up()
        if self.services is not None:
            self._start(Opened(self.services, self.mailer))
        else:
            self._show_sign_in()
            # After the first frame: the imports would otherwise delay it.
            self.call_after_refresh(self._open_behind_sign_in)
        advice = terminal_fit.locale_advice()
        if advice:
            self.notify(advice, severity="warning", markup=False, timeout=15)

    def _start(self, opened: Opened) -> None:
        self.services, self.mailer = opened.services, opened.mailer
        self._show_firm(opened.services.settings.firm_name)
        if opened.services.test_mode:
            from clientpay_tui.services.payments.gateway import TEST_MODE_NOTICE

            # Without "ClientPay · " in front, the notice and who is signed in fit 80 columns.
            self.title = f"{printable(self.firm_name)} · {TEST_MODE_NOTICE}"
        self._services_ready.set()
        self.start_mailer()
        if self.live_refresh:
            self.run_worker(
                self._follow_changes(opened.services),
                name="change-feed",
                group="change-feed",
                exit_on_error=False,
            )
        if opened.key_actor is not None:
            self.signed_in_by_key = True
            self.start_session(opened.key_actor)
        elif self.initial_actor is not None:
            self.start_session(self.initial_actor)
        elif not isinstance(self.screen, SignInScreen):
            self._show_sign_in()
        elif self.checking_key:
            self.screen.key_not_accepted()
        self.checking_key = False

    def _show_sign_in(self) -> None:
        self.push_screen(
            SignInScreen(self.firm_name, self._check_sign_in, checking_key=self.checking_key)
        )

    def sign_in_screen(self, *, username: str = "", notice: str = "") -> SignInScreen:
        return SignInScreen(self.firm_name, self._check_sign_in, username=username, notice=notice)

    @work(group="open", exclusive=True, exit_on_error=True)
    async def _open_behind_sign_in(self) -> None:
        assert self.open_services is not None
        try:
            opened = await asyncio.to_thread(self.open_services)
        except ClientPayError as error:
            self.startup_error = error
            self.exit(return_code=1)
            return
        if opened.key_actor is not None:
            await asyncio.to_thread(_import_all, SIGNED_IN_MODULES)
        self._start(opened)

    def _show_firm(self, firm_name: str) -> None:
        if firm_name != self.firm_name:
            self.firm_name = firm_name
            self.title = f"ClientPay · {printable(firm_name)}"
            if isinstance(self.screen, SignInScreen):
                self.screen.show_firm(firm_name)

    async def _check_sign_in(self, username: str, password: str) -> Actor:
        """The sign-in screen's check: waits for the database if it is still opening."""
        await self._services_ready.wait()
        assert self.services is not None
        self.collector.collect_now()  # what opening the database left: before argon2's 64 MiB
        actor = await call(self.services.staff.sign_in, username, password)
        # The signed-in screens load now (~30 ms, off the loop), not while the password is
        # typed: argon2's 64 MiB for the check then comes on top of 2 MiB less (peak memory).
        await asyncio.to_thread(_import_all, SIGNED_IN_MODULES)
        return actor

    def end_ssh_session(self, notice: str) -> None:
        self.exit_after_mail(0, notice)

    def start_session(self, actor: Actor) -> None:
        """Everything after sign-in runs as ``actor``."""
        from clientpay_tui.screens.payer_list import PayerListScreen
        from clientpay_tui.screens.session import StaffSession

        assert self.services is not None
        self.watch_idle(self.services.settings.idle_sign_out_minutes)
        self.collector.collect_now()  # the signed-in modules: while the list is awaited anyway
        self.session = StaffSession(
            self.services, actor, poke_mailer=self.poke_mailer, captured_mail=self.captured_mail
        )
        self.sub_title = f"{printable(actor.username)} ({actor.role.value})"
        home = PayerListScreen(self.session)
        if isinstance(self.screen, SignInScreen):
            self.switch_screen(home)
        else:
            self.push_screen(home)

    @on(SignInScreen.SignedIn)
    def _signed_in(self, event: SignInScreen.SignedIn) -> None:
        self.start_session(event.actor)

    # -- app-wide actions -------------------------------------------------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        title = getattr(screen, "HELP_TITLE", None) or type(screen).__name__
        self.push_screen(HelpScreen(title, help_entries(screen)))

    async def action_quit(self) -> None:
        unsaved = [s for s in self.screen_stack if isinstance(s, ClientPayScreen)]
        if any(s.has_unsaved_changes() for s in unsaved):
            self._confirm_quit()
        else:
            self.exit_after_mail()

    @work(group="quit", exclusive=True)
    async def _confirm_quit(self) -> None:
        if await self.push_screen_wait(
            ConfirmScreen(
                "Quit with unsaved changes?",
                "You have edited a payer and not saved. Quitting now discards those edits.",
                confirm="Discard and quit",
                cancel="Keep editing",
                destructive=True,
            )
        ):
            self.exit_after_mail()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # Textual's own, with its Screenshot saving into the user data directory.
        yield from terminal_fit.system_commands(self, super().get_system_commands(screen))
        if self.session is not None:
            yield SystemCommand(
                "Sign out",
                "Back to the sign-in screen, to sign in as another staff member "
                "(asks first if there are unsaved edits)",
                self.action_sign_out,
            )

    def action_sign_out(self) -> None:
        """Sign out to the sign-in screen (the palette's Sign out)."""
        if self.session is not None:
            self._sign_out(self.session)

    @work(group="sign-out", exclusive=True, exit_on_error=False)
    async def _sign_out(self, session: StaffSession) -> None:
        discarded = self.unsaved_changes()
        if discarded and not await self.push_screen_wait(
            ConfirmScreen(
                "Sign out with unsaved changes?",
                f"You changed {', '.join(discarded)} and did not save. Signing out discards "
                "those edits.",
                confirm="Discard and sign out",
                cancel="Keep editing",
                destructive=True,
            )
        ):
            return
        still_signed_in = self.session is session
        if not still_signed_in:
            return  # signed out meanwhile (idle)
        notice = " ".join(part for part in ("Signed out.", self.sign_in_hint) if part)
        # Signed out to sign in as someone else: the username field starts empty.
        await self.end_session(session, notice, keep_username=False)
        await call(session.services.staff.signed_out, session.actor)

    @on(OpenPayer)
    def _open_payer_asked(self, message: OpenPayer) -> None:
        self.open_payer(message.payer_id)

    def open_payer(self, payer_id: int) -> None:
        """Open a payer's details on top of the current screen (screens ask by
        :class:`OpenPayer`)."""
        if self.session is not None:
            self._open_payer(self.session, payer_id)

    @work(group="open-payer", exclusive=True, exit_on_error=False)
    async def _open_payer(self, session: StaffSession, payer_id: int) -> None:
        from clientpay_tui.screens.payer_details import PayerDetailsScreen
        from clientpay_tui.screens.payer_page import load_payer

        # The payer loads before its screen exists: keys typed meanwhile ("enter" then "l")
        # are meant for it, not for the list's search box or its letter keys.
        hold = self._held_keys.hold()
        try:
            page = await call(load_payer, session, payer_id)
            await self.push_screen(PayerDetailsScreen(session, page))
        finally:
            self.post_message(ReleaseKeys(hold))

    async def on_event(self, event: events.Event) -> None:
        if self._held_keys.take(event):
            self.idle.touch()
            return
        await super().on_event(event)

    @on(ReleaseKeys)
    async def _release_keys(self, message: ReleaseKeys) -> None:
        # Handled in order with the keys themselves: every key that came before this
        # message was held, every key after it is dispatched as usual, after these.
        held = self._held_keys.release(message.hold)
        for key in held:
            await super().on_event(key)

    # -- changes made elsewhere -------------------------------------------------------------

    async def _follow_changes(self, services: Services) -> None:
        """Tell every open screen what was committed, by anyone, a batch at a time."""
        async with services.change_feed() as feed:
            while True:
                changes = await feed.next()
                for screen in self.screen_stack:
                    screen.post_message(DataChanged(changes))

    # -- errors -----------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)


def _import_all(modules: Sequence[str]) -> None:
    for module in modules:
        importlib.import_module(module)
