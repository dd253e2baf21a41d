"""The outbox sender: claims due emails, sends them with aiosmtplib, records every outcome.

:class:`SmtpSender` implements :class:`~clientpay_tui.mail.delivery.Mailer`. It runs on an
asyncio loop (a Textual worker in the app, ``asyncio.run`` in ``clientpay-tui worker``); each
database call runs in a thread with the synchronous :class:`Database`, so the loop never waits
for the database, and SMTP is asyncio all the way.

Every result is kept until it is stored (:class:`~clientpay_tui.mail.recorder.ResultRecorder`
retries while the database is away, and no new email is claimed meanwhile): a result dropped
would leave its email ``sending``, to be sent again once the claim expires.

Stopping never loses a claimed email. :meth:`SmtpSender.stop` lets the email being sent finish
and gives the rest of the batch back. Cancelling :meth:`SmtpSender.run` gives back everything
not yet recorded, including an email in flight (if the server had in fact accepted it, it is
sent again later with the same Message-ID, which receivers use to drop duplicates). A process
that dies holds its claims until :func:`~clientpay_tui.mail.claims.claim_timeout` passes; then
any sender takes them over.

How the Textual app runs it, pokes it and stops it: :mod:`clientpay_tui.mailing_app`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime

from clientpay_tui.config import Settings
from clientpay_tui.db.engine import Database
from clientpay_tui.db.types import utcnow
from clientpay_tui.errors import DatabaseError
from clientpay_tui.mail import claims
from clientpay_tui.mail.claims import ClaimedEmail
from clientpay_tui.mail.delivery import DeliveryResult, Outcome
from clientpay_tui.mail.message import build_message, parse_mail_from
from clientpay_tui.mail.recorder import (
    STOP_GRACE_SECONDS,
    ResultCallback,
    ResultRecorder,
    in_thread,
)
from clientpay_tui.mail.smtp import SendError, SmtpConnection

log = logging.getLogger(__name__)

CHORES_SECONDS = 60.0
"""How often :meth:`SmtpSender.run` runs its ``chores`` (the invitation reminders: they are
due by the day, so a minute late is on time)."""
Chores = Callable[[], int]
"""Work a sender does before it claims mail, in a thread (queueing invitation reminders);
returns how many emails it queued."""

RECHECK_SECONDS = 0.05
"""An email goes out only if its row was seen still wanted (claimed by this sender, not
cancelled) at most this long before. A server that takes longer per email than this gets a
check before each one; a fast one (a relay on the same host) shares one check among several
emails, which spares a database read per email."""


def default_sender_name() -> str:
    """A name unique to this sender: host, process and a random part (two in one process)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


class SmtpSender:
    """Delivers the outbox over SMTP; see the module docstring.

    Args:
        db: the database holding the outbox (its own :class:`Database` per process).
        settings: SMTP server, security, credentials, timeout and ``mail_from``.
        clock: the current time (tests freeze it).
        name: stored in ``claimed_by``; unique per sender.
        batch_size: emails claimed at once; they are all sent over one connection.
        poll_seconds: how often :meth:`run` looks for mail queued by other processes when
            nobody calls :meth:`poke`.
        chores: run before claiming, at most every :data:`CHORES_SECONDS` (and on every
            :meth:`deliver_due`): ``services.reminders`` queues the invitation reminders this
            way, so whichever sender runs sends them. The mail layer does not know the
            services; whoever builds the sender hands them in.

    Raises:
        ConfigError: ``mail_from`` is not one valid address.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        name: str | None = None,
        batch_size: int = 50,
        poll_seconds: float = 5.0,
        chores: Chores | None = None,
    ) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self.name = name or default_sender_name()
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self._chores = chores
        self._chores_due = 0.0
        """``loop.time()`` at which the chores run next."""
        self.sender = parse_mail_from(settings.mail_from)
        self._timeout = claims.claim_timeout(settings.smtp_timeout)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._stopping = threading.Event()
        self._paused_until: datetime | None = None
        self._recorder: ResultRecorder | None = None
        self.idle = asyncio.Event()
        """Set while :meth:`run` waits for a poke, the next due email or the next poll."""

    @property
    def stop_seconds(self) -> float:
        """The longest :meth:`stop` can take: the email being sent gets the rest of its
        conversation with the server (each step bounded by the SMTP timeout), and its result
        :data:`STOP_GRACE_SECONDS` to be stored."""
        return 3 * self._settings.smtp_timeout + STOP_GRACE_SECONDS

    # -- control, safe to call from any thread --------------------------------------------

    def poke(self) -> None:
        """Something was just queued: deliver now instead of at the next poll (even while
        waiting out a server failure, so that the person who asked hears back at once)."""

        def wake() -> None:
            self._paused_until = None
            self._wake.set()

        self._call_in_loop(wake)

    def stop(self) -> None:
        """End :meth:`run` soon: the email being sent finishes, the rest of its batch is given
        back to the queue, then ``run`` returns. A stopped sender stays stopped (a stop that
        comes before ``run`` starts is not lost)."""
        self._stopping.set()
        self._call_in_loop(self._stop_in_loop)

    def _stop_in_loop(self) -> None:
        self._wake.set()
        if self._recorder is not None:
            self._recorder.give_up_after(STOP_GRACE_SECONDS)

    def _call_in_loop(self, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            callback()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            callback()
        else:
            # A closed loop raises RuntimeError: then nothing is running to wake.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(callback)

    # -- delivery -----------------------------------------------------------------------------

    async def run(self, on_result: ResultCallback) -> None:
        """Deliver due mail until :meth:`stop` or cancellation, calling ``on_result`` for every
        attempt (from the loop's thread). Database or server trouble never ends the loop: it
        is logged and tried again."""
        self._loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            self._wake.clear()
            delay: float | None = None
            if not self._paused():
                try:
                    await self._pass(on_result)
                except DatabaseError as error:
                    log.warning("mail sender %s: %s", self.name, error)
                    delay = self.poll_seconds
                except Exception:
                    log.exception("mail sender %s: unexpected error", self.name)
                    delay = self.poll_seconds
            if self._stopping.is_set():
                break
            await self._sleep(delay)

    async def deliver_due(self, on_result: ResultCallback | None = None) -> list[DeliveryResult]:
        """Deliver what is due now, once, and return every attempt's result."""
        self._loop = asyncio.get_running_loop()
        self._chores_due = 0.0
        results: list[DeliveryResult] = []

        def collect(result: DeliveryResult) -> None:
            results.append(result)
            if on_result is not None:
                on_result(result)

        await self._pass(collect)
        return results

    def _paused(self) -> bool:
        return self._paused_until is not None and self._clock() < self._paused_until

    async def _sleep(self, delay: float | None = None) -> None:
        if delay is None:
            delay = await self._next_delay()
        if delay <= 0:
            await asyncio.sleep(0)  # let the app breathe between passes
            return
        self.idle.set()
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
        finally:
            self.idle.clear()

    async def _next_delay(self) -> float:
        """Seconds until something is due, at most ``poll_seconds``; or the server pause."""
        now = self._clock()
        if self._paused_until is not None and now < self._paused_until:
            delay = (self._paused_until - now).total_seconds()
        else:
            self._paused_until = None
            try:
                due = await in_thread(lambda: claims.next_due(self._db, timeout=self._timeout))
            except DatabaseError as error:
                log.warning("mail sender %s: %s", self.name, error)
                due = None
            delay = self.poll_seconds
            if due is not None:
                delay = min(delay, max(0.0, (due - self._clock()).total_seconds()))
        return delay

    async def _pass(self, report: ResultCallback) -> None:
        """Claim and send batches until nothing is due, the server fails, results cannot be
        stored, or stop(). Returns once every result is stored (see :class:`ResultRecorder`)."""
        await self._run_chores()
        self._recorder = recorder = ResultRecorder(self._store, report)
        if self._stopping.is_set():
            recorder.give_up_after(STOP_GRACE_SECONDS)
        try:
            async with SmtpConnection(self._settings) as smtp:
                # No new claims while results wait to be stored: they would only pile up,
                # and each one unstored is an email sent twice if this process ends.
                while not self._stopping.is_set() and not recorder.failing:
                    batch = await self._claim()
                    if not batch or not await self._send_batch(smtp, batch, recorder):
                        break
        finally:
            try:
                await recorder.drain()
            finally:
                self._recorder = None

    async def _run_chores(self) -> None:
        """The chores, if they are due: their trouble is logged, never stops delivery."""
        loop = asyncio.get_running_loop()
        if self._chores is None or self._stopping.is_set() or loop.time() < self._chores_due:
            return
        self._chores_due = loop.time() + CHORES_SECONDS
        try:
            await in_thread(self._chores)
        except DatabaseError as error:
            log.warning("mail sender %s: %s", self.name, error)
        except Exception:
            log.exception("mail sender %s: its chores failed", self.name)

    async def _claim(self) -> list[ClaimedEmail]:
        now = self._clock()

        def claim() -> list[ClaimedEmail]:
            return claims.claim(
                self._db,
                sender=self.name,
                now=now,
                stale_before=now - self._timeout,
                limit=self.batch_size,
            )

        def undo(claimed: list[ClaimedEmail]) -> None:
            claims.release(self._db, (email.id for email in claimed), sender=self.name)

        return await in_thread(claim, undo=undo)

    async def _send_batch(
        self, smtp: SmtpConnection, batch: list[ClaimedEmail], recorder: ResultRecorder
    ) -> bool:
        """Send each email of ``batch`` that is still wanted (checked just before it goes: a
        deleted login cancels its emails); False when the server could not be reached or the
        database could not be asked."""
        held = {email.id: email for email in batch}  # claimed, and no result yet
        loop = asyncio.get_running_loop()
        checked_at = -RECHECK_SECONDS
        unwanted: dict[int, str] = {}
        try:
            for email in batch:
                if self._stopping.is_set() or recorder.failing:
                    break
                if loop.time() - checked_at >= RECHECK_SECONDS:
                    checked_at = loop.time()
                    try:
                        unwanted = await self._not_wanted(held)
                    except DatabaseError as trouble:
                        # Not knowing whether it was cancelled, send nothing: the rest waits.
                        log.warning("mail sender %s: %s", self.name, trouble)
                        return False
                if (reason := unwanted.get(email.id)) is not None:
                    log.info("mail sender %s: email %s not sent: %s", self.name, email.id, reason)
                    del held[email.id]  # not ours to record or give back any more
                    continue
                result, error = await self._attempt(smtp, email)
                if error is not None and error.session:
                    # Nothing gets through now: every email of the batch waits alike, and
                    # until the first retry is due only a poke() tries the server again.
                    for other in held.values():
                        recorder.add(self._failed(other, error))
                    held.clear()
                    self._paused_until = result.next_attempt_at
                    return False
                del held[email.id]
                recorder.add(result)
        finally:
            # Given back with the next results, so a database that is away just then does
            # not leave them claimed until the claim expires.
            recorder.release(held)
        return True

    async def _not_wanted(self, held: dict[int, ClaimedEmail]) -> dict[int, str]:
        """Which of the emails in hand must not be sent any more, and why."""
        check = functools.partial(claims.not_wanted, self._db, list(held), sender=self.name)
        return await in_thread(check)

    async def _attempt(
        self, smtp: SmtpConnection, email: ClaimedEmail
    ) -> tuple[DeliveryResult, SendError | None]:
        now = self._clock()
        try:
            message = build_message(email, sender=self.sender, date=now)
            await smtp.send(message, sender=self.sender.addr_spec, recipient=email.to_address)
        except SendError as error:
            return self._failed(email, error), error
        except ValueError as error:  # no body any more, or an address that cannot be a header
            failure = SendError(f"cannot build the email: {error}", permanent=True)
            return self._failed(email, failure), failure
        except Exception as error:  # a bug must not stop delivery of everything else
            log.exception("mail sender %s: unexpected error sending email %s", self.name, email.id)
            failure = SendError(f"unexpected error: {type(error).__name__}: {error}")
            return self._failed(email, failure), failure
        return _result(email, Outcome.SENT), None

    def _failed(self, email: ClaimedEmail, error: SendError) -> DeliveryResult:
        if error.permanent:
            return _result(email, Outcome.FAILED, str(error))
        if email.attempts >= claims.MAX_ATTEMPTS:
            reason = f"gave up after {email.attempts} attempts: {error}"
            return _result(email, Outcome.FAILED, reason)
        retry_at = self._clock() + claims.backoff(email.attempts)
        return _result(email, Outcome.RETRY, str(error), retry_at)

    def _store(self, results: list[DeliveryResult], released: list[int]) -> None:
        """Store a batch of results (in a thread, from :class:`ResultRecorder`)."""
        lost = claims.record(
            self._db, results, sender=self.name, now=self._clock(), released=released
        )
        for email_id in lost:
            log.warning(
                "mail sender %s: email %s was cancelled or taken over by another sender while "
                "it was being sent; its result here was not stored",
                self.name,
                email_id,
            )


def _result(
    email: ClaimedEmail,
    outcome: Outcome,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
) -> DeliveryResult:
    return DeliveryResult(
        email_id=email.id,
        payer_id=email.payer_id,
        kind=email.kind,
        to_address=email.to_address,
        outcome=outcome,
        error=error,
        next_attempt_at=next_attempt_at,
    )
