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
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import Provider
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker

from clientpay_tui import terminal_fit
from clientpay_tui.errors import ClientPayError
from clientpay_tui.idle_sign_out import IdleSignOutApp
from clientpay_tui.mail.delivery import DeliveryResult, Mailer, Outcome
from clientpay_tui.messages import DataChanged, MailDelivered, OpenPayer
from clientpay_tui.screens.base import (
    ClientPayScreen,
    call,
    help_entries,
    report_worker_error,
    toast,
)
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.help import HelpScreen
from clientpay_tui.screens.sign_in import SignInScreen
from clientpay_tui.sent_toasts import SentToasts
from clientpay_tui.styles import stylesheet
from clientpay_tui.terminal import HangUpWatcher
from clientpay_tui.text import printable
from clientpay_tui.themes import DARK, LIGHT

if TYPE_CHECKING:
    # The demo's capture server (aiosmtpd) loads only in demo mode.
    from clientpay_tui.mail.capture import CapturedMessage
    from clientpay_tui.screens.session import StaffSession
    from clientpay_tui.services.context import Actor
    from clientpay_tui.services.facade import Services

UNHELD_KEYS = frozenset({"ctrl+q", "ctrl+c"})
"""Keys never held back while a screen opens: quitting works at any moment."""

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


class _ReleaseKeys(Message, bubble=False):
    """Queued behind every key that arrived while a screen was opening: dispatch them now."""


class ClientPayApp(IdleSignOutApp):
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
        super().__init__(idle_clock=idle_clock, idle_check_seconds=idle_check_seconds)
        self.live_refresh = live_refresh
        if (services is None) == (open_services is None):
            raise TypeError("give either services or open_services")
        if services is not None:
            firm_name = services.settings.firm_name
        self.firm_name = firm_name or ""
        self.services = services
        self.mailer = mailer
        self.open_services = open_services
        self.startup_error: ClientPayError | None = None
        self.initial_actor = actor
        self.captured_mail = captured_mail
        self.sign_in_hint = sign_in_hint
        self.handle_sighup = handle_sighup
        self.checking_key = checking_key
        self._sent_toasts = SentToasts(self)
        self.session: StaffSession | None = None
        self._services_ready = asyncio.Event()
        self._previous_sighup: Any = signal.SIG_DFL
        self._hang_up_watcher: HangUpWatcher | None = None
        self._terminal_is_gone = False
        self._mail_worker: Worker[None] | None = None
        self._exiting: asyncio.Task[None] | None = None
        self._held_keys: list[events.Key] | None = None
        """Keys typed while a screen is being opened (``None``: not holding)."""
        self.title = f"ClientPay · {printable(self.firm_name)}"
        self.register_theme(DARK)
        self.register_theme(LIGHT)
        self.theme = DARK.name
        self.set_class(terminal_fit.low_colour(self.console), terminal_fit.LOW_COLOUR_CLASS)

    # -- start and stop ---------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.handle_sighup:
            # A plain handler, not loop.add_signal_handler: it must run before Textual's
            # SIGCONT handler, which the kernel triggers together with SIGHUP (see _hang_up).
            self._previous_sighup = signal.signal(signal.SIGHUP, self._hang_up)
            self._watch_terminal()
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
        if opened.services.payments.test_mode:
            from clientpay_tui.services.payments.gateway import TEST_MODE_NOTICE

            # Without "ClientPay · " in front, the notice and who is signed in fit 80 columns.
            self.title = f"{printable(self.firm_name)} · {TEST_MODE_NOTICE}"
        self._services_ready.set()
        if self.mailer is not None:
            self._mail_worker = self.run_worker(
                self._deliver(self.mailer), name="mailer", group="mailer"
            )
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
        actor = await call(self.services.staff.sign_in, username, password)
        # The signed-in screens load now (~30 ms, off the loop), not while the password is
        # typed: argon2's 64 MiB for the check then comes on top of 2 MiB less (peak memory).
        await asyncio.to_thread(_import_all, SIGNED_IN_MODULES)
        return actor

    def on_unmount(self) -> None:
        if self.handle_sighup:
            signal.signal(signal.SIGHUP, self._previous_sighup)
        if self._hang_up_watcher is not None:
            self._hang_up_watcher.stop()

    def _watch_terminal(self) -> None:
        """End the app when its terminal's input hangs up, SIGHUP or not (Textual would
        otherwise read end-of-file in a loop forever)."""
        stdin = sys.__stdin__
        if self.is_headless or stdin is None or not stdin.isatty():
            return
        loop = asyncio.get_running_loop()
        self._hang_up_watcher = HangUpWatcher(
            stdin.fileno(), lambda: loop.call_soon_threadsafe(self._terminal_gone)
        )
        self._hang_up_watcher.start()

    def _hang_up(self, _signum: int, _frame: object) -> None:
        """SIGHUP: the terminal went away (a dropped SSH connection)."""
        self._terminal_gone()

    def _terminal_gone(self) -> None:
        """The terminal went away (a dropped SSH connection): end cleanly, now.

        A hang-up brings SIGCONT too, and Textual's SIGCONT handler would re-enter
        application mode on the dead terminal and block on its output queue; pending Python
        signal handlers run in signal-number order, so ignoring SIGCONT here comes first.
        Output then goes to /dev/null so that restoring the terminal cannot block or fail.
        There is nobody left to ask about unsaved edits.
        """
        if self._terminal_is_gone:
            return
        self._terminal_is_gone = True
        signal.signal(signal.SIGCONT, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        asyncio.get_running_loop().call_soon_threadsafe(self.exit_after_mail, 129)

    def end_ssh_session(self, notice: str) -> None:
        self.exit_after_mail(0, notice)

    def exit_after_mail(self, return_code: int = 0, message: str = "") -> None:
        """Exit once the email being sent (if any) is answered and its result stored.

        Exiting at once would cancel the send: if the server had the message already, the
        email would be given back and go out a second time later. Waiting is bounded by the
        mailer's :attr:`~clientpay_tui.mail.delivery.Mailer.stop_seconds`.
        """
        if self._exiting is None:
            self._exiting = asyncio.ensure_future(self._stop_mail_then_exit(return_code, message))

    async def _stop_mail_then_exit(self, return_code: int, message: str = "") -> None:
        mailer, worker = self.mailer, self._mail_worker
        try:
            if mailer is not None and worker is not None and worker.is_running:
                mailer.stop()
                waiting = asyncio.ensure_future(worker.wait())
                done, _ = await asyncio.wait({waiting}, timeout=mailer.stop_seconds)
                if waiting in done and not waiting.cancelled():
                    waiting.exception()  # a failure was reported by on_worker_state_changed
                waiting.cancel()
        finally:  # whatever happened to the mailer, the app ends
            self.exit(None, return_code, Text(printable(message)) if message else None)

    def start_session(self, actor: Actor) -> None:
        """Everything after sign-in runs as ``actor``."""
        from clientpay_tui.screens.payer_list import PayerListScreen
        from clientpay_tui.screens.session import StaffSession

        assert self.services is not None
        self.watch_idle(self.services.settings.idle_sign_out_minutes)
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
        from clientpay_tui.screens.payer_details import PayerDetailsScreen, load_payer

        # The payer loads before its screen exists: keys typed meanwhile ("enter" then "l")
        # are meant for it, not for the list's search box or its letter keys.
        self._held_keys = self._held_keys or []
        try:
            page = await call(load_payer, session, payer_id)
            await self.push_screen(PayerDetailsScreen(session, page))
        finally:
            self.post_message(_ReleaseKeys())

    async def on_event(self, event: events.Event) -> None:
        if (
            self._held_keys is not None
            and isinstance(event, events.Key)
            and not event.is_forwarded
            and event.key not in UNHELD_KEYS
        ):
            self.idle.touch()
            self._held_keys.append(event)
            return
        await super().on_event(event)

    @on(_ReleaseKeys)
    async def _release_keys(self, _message: _ReleaseKeys) -> None:
        # Handled in order with the keys themselves: every key that came before this
        # message was held, every key after it is dispatched as usual, after these.
        held, self._held_keys = self._held_keys or [], None
        for key in held:
            await super().on_event(key)

    # -- mail -------------------------------------------------------------------------------

    def poke_mailer(self) -> None:
        """Something was queued: deliver it now rather than at the next poll."""
        if self.mailer is not None:
            self.mailer.poke()

    async def _deliver(self, mailer: Mailer) -> None:
        await mailer.run(self._delivered)

    def _delivered(self, result: DeliveryResult) -> None:
        # May be called from the mailer's thread: post_message is thread-safe.
        self.post_message(MailDelivered(result))

    def on_mail_delivered(self, message: MailDelivered) -> None:
        from clientpay_tui.db.models import EmailKind
        from clientpay_tui.widgets.formatting import EMAIL_KINDS

        result = message.result
        what = EMAIL_KINDS.get(result.kind.value, "Email")
        if result.kind == EmailKind.INVITE_REMINDER and result.outcome == Outcome.SENT:
            pass  # nobody here asked for it: a toast each would bury the screen after a bulk
            # invite (the Mail screen lists them; a failure still says so)
        elif result.outcome == Outcome.SENT and self._sent_toasts.hold():
            pass  # a burst (a bulk grant): one toast a second says how many went
        elif result.outcome == Outcome.SENT:
            toast(self, f"{what} sent to {result.to_address}.")
        elif result.outcome == Outcome.RETRY:
            reason = f" ({result.error})" if result.error else ""
            toast(self, f"{what} to {result.to_address} queued for retry{reason}.", "warning")
        else:
            toast(self, f"{what} to {result.to_address} failed: {result.error}", "error")
        for screen in self.screen_stack:
            screen.post_message(MailDelivered(result))

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
