"""Drives one bulk run from the payer list: plan (in a thread), confirm, run in a thread worker
while the app stays usable, show progress, stop on ``escape`` after the current payer, and
show the summary once the list is on screen again."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from textual.content import Content
from textual.widgets import Label, ProgressBar

from clientpay_tui.screens.base import call
from clientpay_tui.screens.bulk_flow import (
    TITLES,
    BulkDone,
    BulkStep,
    BulkSummaryScreen,
    confirm_text,
    result_line,
    skipped_text,
)
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.picked import Picked
from clientpay_tui.services.bulk_access import (
    BulkAction,
    BulkPlan,
    BulkProgress,
    BulkResult,
    PayerQuery,
    PayerSelection,
)

if TYPE_CHECKING:
    from clientpay_tui.screens.payer_list import PayerListScreen

VERBS = {BulkAction.GRANT: "Granting", BulkAction.RESEND: "Re-sending"}


class BulkRunner:
    """The payer list's bulk runs (one at a time)."""

    def __init__(self, screen: PayerListScreen) -> None:
        self.screen = screen
        self.running = False
        self._stop = threading.Event()
        self._action = BulkAction.GRANT
        self._pending: BulkResult | None = None

    def start(self, action: BulkAction) -> None:
        screen = self.screen
        if self.running:
            screen.toast("A bulk run is going: escape stops it after the current payer.")
            return
        if screen.picked.is_empty:
            screen.toast(
                "Select payers first: space selects the highlighted payer, ctrl+a every payer "
                "the search and filter find.",
                "warning",
            )
            return
        screen.run_worker(
            self._confirm_and_run(action, screen.picked),
            group="bulk-plan",
            exclusive=True,
            exit_on_error=False,
        )

    def stop(self) -> None:
        if self.running and not self._stop.is_set():
            self._stop.set()
            self._label("Stopping after the current payer…")

    async def _confirm_and_run(self, action: BulkAction, picked: Picked[PayerQuery]) -> None:
        session = self.screen.session
        selection = PayerSelection(picked.ids, picked.matching, picked.excluded)
        self._label(f"{picked.summary()}: checking who gets an email…")
        try:
            plan = await call(session.services.bulk_access.plan, session.actor, action, selection)
        finally:
            self.screen.show_selected()
        title = TITLES[action]
        if not plan.targets:
            notice = ConfirmScreen(
                title, f"Nobody to email.\n\n{skipped_text(plan)}", confirm=None, cancel="Close"
            )
            await self.screen.app.push_screen_wait(notice)
            return
        days = session.services.settings.welcome_token_days
        confirm = "Grant access" if action == BulkAction.GRANT else "Re-send"
        dialog = ConfirmScreen(title, confirm_text(plan, days), confirm=confirm)
        if await self.screen.app.push_screen_wait(dialog):
            self._run(plan)

    def _run(self, plan: BulkPlan) -> None:
        self.running = True
        self._action = plan.action
        self._stop.clear()
        bar = self.screen.query_one("#bulk-progress", ProgressBar)
        bar.update(total=len(plan.targets), progress=0)
        bar.add_class("-running")
        self._label(f"{VERBS[plan.action]} 0/{len(plan.targets):,} (esc stops)")
        self.screen.show_selected()
        self.screen.refresh_bindings()  # escape now stops the run
        self.screen.run_worker(
            lambda: self._work(plan), thread=True, group="bulk-run", exit_on_error=False
        )

    def _work(self, plan: BulkPlan) -> None:
        """In a worker thread: the run, its progress and its end posted as messages."""
        session, screen = self.screen.session, self.screen
        result = None
        try:
            result = session.services.bulk_access.run(
                session.actor,
                plan,
                lambda progress: screen.post_message(BulkStep(progress)),
                self._stop.is_set,
            )
        finally:
            screen.post_message(BulkDone(result))

    def step(self, progress: BulkProgress) -> None:
        self.screen.session.poke_mailer()  # emails go out while the run goes on
        self.screen.query_one("#bulk-progress", ProgressBar).update(progress=progress.done)
        if not self._stop.is_set():
            verb = VERBS[self._action]
            self._label(f"{verb} {progress.done:,}/{progress.total:,} (esc stops)")

    def done(self, result: BulkResult | None) -> None:
        screen = self.screen
        self.running = False
        screen.query_one("#bulk-progress", ProgressBar).remove_class("-running")
        screen.refresh_bindings()
        if result is not None:
            screen.picked = Picked()
            if not screen.is_current:
                # The summary waits for the list; say now that the run ended. (On the list the
                # summary itself says it: a toast too would cover its list of skipped payers.)
                screen.toast(result_line(result), "warning" if result.stopped else "information")
            self._pending = result
            self.show_pending_summary()
        screen.show_selected()
        screen.refresh_rows()

    def show_pending_summary(self) -> None:
        """The summary of a run that ended while another screen was on top, once back."""
        if self._pending is not None and self.screen.is_current:
            result, self._pending = self._pending, None
            self.screen.app.push_screen(BulkSummaryScreen(result))

    def _label(self, text: str) -> None:
        self.screen.query_one("#bulk-bar").add_class("-shown")
        self.screen.query_one("#selected-count", Label).update(Content(text))
