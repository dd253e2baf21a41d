"""The app's side of mail delivery: the mailer runs as a worker for the app's life, its results
become toasts and messages to every screen, and quitting waits for the email in flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from rich.text import Text
from textual.worker import Worker

from clientpay_tui.enums import EmailKind
from clientpay_tui.idle_sign_out import IdleSignOutApp
from clientpay_tui.mail.delivery import DeliveryResult, Mailer, Outcome
from clientpay_tui.messages import MailDelivered
from clientpay_tui.screens.base import toast
from clientpay_tui.sent_toasts import SentToasts
from clientpay_tui.text import printable


class MailingApp(IdleSignOutApp):
    """Args:
    mailer: delivers the outbox while the app runs (``None``: mail stays queued for
        ``clientpay-tui worker`` or another session).
    idle_clock, idle_check_seconds: see :class:`IdleSignOutApp`.
    """

    def __init__(
        self,
        mailer: Mailer | None,
        *,
        idle_clock: Callable[[], float] = time.monotonic,
        idle_check_seconds: float | None = None,
    ) -> None:
        super().__init__(idle_clock=idle_clock, idle_check_seconds=idle_check_seconds)
        self.mailer = mailer
        self._mail_worker: Worker[None] | None = None
        self._exiting: asyncio.Task[None] | None = None
        self._sent_toasts = SentToasts(self)

    def start_mailer(self) -> None:
        """Deliver the outbox from now until the app ends (if there is a mailer)."""
        if self.mailer is not None:
            self._mail_worker = self.run_worker(
                self._deliver(self.mailer), name="mailer", group="mailer"
            )

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
