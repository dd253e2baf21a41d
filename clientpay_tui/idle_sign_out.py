"""The app's idle time. After ``idle_sign_out_minutes`` without a key press or mouse event, back
to the sign-in screen with the session dropped, unsaved edits discarded and named, and the
sign-out audited; a session that began by SSH key ends the app instead (and with it the SSH
connection of a ``ForceCommand`` login). In the pauses between keys, the garbage collector's
full collections (:mod:`clientpay_tui.idle_collection`).

A base class of :class:`~clientpay_tui.app.ClientPayApp`: every input event passes
:meth:`App.on_event` once, before any screen, input or modal sees it (and may stop it), so
counting there costs one clock read per event and misses none. One interval timer looks at
the idle time; no work is done per keystroke.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App
from textual.worker import WorkerState

from clientpay_tui.idle import IdleWatch, sign_out_notice
from clientpay_tui.idle_collection import TICK_SECONDS, IdleCollector
from clientpay_tui.screens.base import ClientPayScreen
from clientpay_tui.screens.sign_in import SignInScreen

if TYPE_CHECKING:
    from clientpay_tui.screens.session import StaffSession


LIFELONG_WORKERS = frozenset({"mailer", "change-feed"})
"""Worker groups that run as long as the app: not database work a collection would delay."""


class IdleSignOutApp(App[None]):
    """Signs the staff member out after a time without input, and collects garbage in the
    pauses.

    Args:
        idle_clock: the monotonic clock (seconds) idle time is measured with; tests pass one
            they move by hand.
        idle_check_seconds: how often to look at the idle time (default: a tenth of the
            limit, at most 15 s).
    """

    session: StaffSession | None
    """Who is signed in (``None``: the sign-in screen)."""

    def __init__(
        self,
        *,
        idle_clock: Callable[[], float] = time.monotonic,
        idle_check_seconds: float | None = None,
    ) -> None:
        super().__init__()
        self.idle = IdleWatch(0, idle_clock)
        self._idle_check_seconds = idle_check_seconds
        self.idle_checks = 0
        """How many times the idle time was looked at (tests wait for the next look)."""
        self.signed_in_by_key = False
        """The session began by SSH key (``ssh_key_sign_in``): idle time ends the app."""
        self.collector = IdleCollector(
            lambda: self.idle.last_input, self._database_work_running, clock=idle_clock
        )

    def on_mount(self) -> None:
        self.collector.start()
        self.set_interval(TICK_SECONDS, self.collector.tick, name="idle collection")

    def on_unmount(self) -> None:
        self.collector.stop()

    def _database_work_running(self) -> bool:
        return any(
            worker.state == WorkerState.RUNNING and worker.group not in LIFELONG_WORKERS
            for worker in self.workers
        )

    def sign_in_screen(self, *, username: str = "", notice: str = "") -> SignInScreen:
        """The sign-in screen, with ``username`` filled in and ``notice`` saying why."""
        raise NotImplementedError

    def end_ssh_session(self, notice: str) -> None:
        """End the app (and so the SSH session) with ``notice`` as its last line."""
        raise NotImplementedError

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseEvent)) and not event.is_forwarded:
            self.idle.touch()
        await super().on_event(event)

    def watch_idle(self, minutes: int) -> None:
        """Count idle time from now for a new session (one interval timer per app: the
        setting does not change while the app runs)."""
        first = self.idle.minutes == 0
        self.idle.minutes = minutes
        self.idle.touch()
        if minutes and first:
            self.set_interval(
                self._idle_check_seconds or self.idle.check_seconds,
                self._check_idle,
                name="idle sign-out",
            )

    def _check_idle(self) -> None:
        self.idle_checks += 1
        if self.session is not None and self.idle.expired():
            self._sign_out_idle(self.session)

    @work(group="sign-out", exclusive=True, exit_on_error=False)
    async def _sign_out_idle(self, session: StaffSession) -> None:
        """Back to the sign-in screen: every signed-in screen goes (unsaved edits are not
        saved), the session is dropped, and the audit log says why. Mail keeps going: the
        mailer belongs to the app, not to whoever is signed in."""
        minutes = self.idle.minutes
        if self.signed_in_by_key:
            # Signed in by the SSH login's key: a sign-in screen would be a password prompt
            # on a connection that never needed one. The audit lands before the app ends.
            self.session = None
            await asyncio.to_thread(
                session.services.staff.signed_out_idle, session.actor, minutes, ended=True
            )
            notice = sign_out_notice(minutes, self.unsaved_changes())
            self.end_ssh_session(f"{notice} The SSH session ended.")
            return
        await self.end_session(session, sign_out_notice(minutes, self.unsaved_changes()))
        self._record_sign_out(session, minutes)

    def unsaved_changes(self) -> list[str]:
        """What has unsaved edits (payer names), in screen order."""
        return [
            what
            for screen in self.screen_stack
            if isinstance(screen, ClientPayScreen)
            and (what := screen.unsaved_changes_to()) is not None
        ]

    async def end_session(
        self, session: StaffSession, notice: str, *, keep_username: bool = True
    ) -> None:
        """Close every signed-in screen (unsaved edits are not saved), drop the session and
        show the sign-in screen with ``notice`` (and the username filled in, if kept)."""
        self.session = None
        self.sub_title = ""
        # App-level dialogs waiting for an answer that will never come.
        for group in ("quit", "open-payer"):
            self.workers.cancel_group(self, group)
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        username = session.actor.username if keep_username else ""
        await self.push_screen(self.sign_in_screen(username=username, notice=notice))

    @work(thread=True, group="sign-out-audit", exit_on_error=False)
    def _record_sign_out(self, session: StaffSession, minutes: int) -> None:
        session.services.staff.signed_out_idle(session.actor, minutes)
