"""Database work for the async sender: run in a thread, seen through cancellation, batched.

The sender lives on an event loop (the app's, or the worker's) and uses the synchronous
:class:`~clientpay_tui.db.engine.Database` from threads, so the loop never waits for the
database and no connection is shared between loops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from clientpay_tui.errors import DatabaseError
from clientpay_tui.mail.delivery import DeliveryResult

log = logging.getLogger(__name__)

T = TypeVar("T")
ResultCallback = Callable[[DeliveryResult], None]

STOP_GRACE_SECONDS = 10.0
"""How long a stopping sender keeps trying to store results the database will not take."""


async def in_thread(func: Callable[[], T], *, undo: Callable[[T], object] | None = None) -> T:
    """Run a blocking database call in a thread and see it through to its end.

    If the awaiting task is cancelled meanwhile, the call still completes, so the database is in
    a known state; ``undo`` (if given) then takes its effect back, and the cancellation goes on.
    Without this, a claim cancelled half-way would leave emails held by nobody until the claim
    times out.
    """
    future = asyncio.ensure_future(asyncio.to_thread(func))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await wait_through_cancellation(future)
        if undo is not None and not future.cancelled() and future.exception() is None:
            result = future.result()
            await wait_through_cancellation(asyncio.ensure_future(asyncio.to_thread(undo, result)))
        raise


async def wait_through_cancellation(future: asyncio.Future[Any]) -> bool:
    """Wait until ``future`` is done even if the caller is cancelled meanwhile.

    Returns:
        True when a cancellation arrived while waiting: the caller must raise it afterwards.
    """
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait({future})
        except asyncio.CancelledError:
            cancelled = True
    return cancelled


class ResultRecorder:
    """Stores delivery results in the background while the next email is being sent.

    Results that arrive within ``linger`` seconds, or while a transaction is running, are
    stored together, so a fast server costs one transaction per handful of emails, and a slow
    one still gets each result stored (and reported) right after its email.

    A result stays in memory until it is stored: an email that went out but whose result was
    dropped would stay ``sending`` and be sent again once its claim expires. When the database
    cannot take a batch (down, or locked by another writer), the batch is tried again with a
    growing pause (``retry_first`` doubling up to ``retry_max``) until it can; :attr:`failing`
    tells the sender to stop taking new mail meanwhile. Only :meth:`give_up_after` (the
    sender is stopping) or the loop shutting down ends the retries.

    Args:
        store: stores a batch in one transaction (called in a thread): the results, and the
            ids of claimed emails to give back unsent (see :meth:`release`).
        report: called on the loop for each result once it is stored.
        linger: seconds to wait for more results before a transaction starts.
        retry_first: seconds before the first retry of a failed store …
        retry_max: … and the longest pause between retries.
    """

    def __init__(
        self,
        store: Callable[[list[DeliveryResult], list[int]], object],
        report: ResultCallback,
        *,
        linger: float = 0.02,
        retry_first: float = 0.05,
        retry_max: float = 1.0,
    ) -> None:
        self._store = store
        self._report = report
        self._linger = linger
        self._retry_first = retry_first
        self._retry_max = retry_max
        self._pending: list[DeliveryResult] = []
        self._released: list[int] = []
        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None
        self._deadline: float | None = None

    @property
    def failing(self) -> bool:
        """The last attempt to store failed and results are waiting: send no more for now."""
        return self._error is not None

    def add(self, result: DeliveryResult) -> None:
        self._pending.append(result)
        self._start()

    def release(self, ids: Iterable[int]) -> None:
        """Give these claimed, unsent emails back to the queue, with the next results."""
        self._released.extend(ids)
        if self._released:
            self._start()

    def give_up_after(self, seconds: float) -> None:
        """Stop retrying a failing store ``seconds`` from now (the sender is stopping)."""
        deadline = asyncio.get_running_loop().time() + seconds
        if self._deadline is None or deadline < self._deadline:
            self._deadline = deadline

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        pause = self._retry_first
        while self._pending or self._released:
            # Gather what arrives in the next few milliseconds into the same transaction:
            # fewer commits, and less database work competing with the loop for the GIL.
            await asyncio.sleep(self._linger)
            batch, released = list(self._pending), list(self._released)
            future = asyncio.ensure_future(asyncio.to_thread(self._store, batch, released))
            cancelled = await wait_through_cancellation(future)
            error = None if future.cancelled() else future.exception()
            if error is None:
                # Only now are they off the list; add() may have appended more meanwhile.
                del self._pending[: len(batch)]
                del self._released[: len(released)]
                if self._error is not None:
                    log.warning("mail: results are stored again (%d kept meanwhile)", len(batch))
                self._error, pause = None, self._retry_first
            if cancelled:
                raise asyncio.CancelledError
            if error is not None:
                if not isinstance(error, Exception):
                    raise error
                self._failed(error, len(batch) + len(released))
                if self._gave_up():
                    raise error
                await asyncio.sleep(pause)
                pause = min(pause * 2, self._retry_max)
                continue
            for result in batch:
                try:
                    self._report(result)
                except Exception:  # the UI's problem must not stop delivery
                    log.exception("mail: the result callback failed for email %s", result.email_id)

    def _failed(self, error: Exception, count: int) -> None:
        if self._error is None:  # once per outage, not once per retry
            log.warning(
                "mail: cannot store %d delivery results, keeping them and trying again: %s",
                count,
                error,
                # A database that is away is expected; anything else is a bug to look at.
                exc_info=None if isinstance(error, DatabaseError) else error,
            )
        self._error = error

    def _gave_up(self) -> bool:
        if self._deadline is None or asyncio.get_running_loop().time() < self._deadline:
            return False
        log.error(
            "mail: gave up storing the results of emails %s; they stay claimed and are sent "
            "again once their claim expires",
            ", ".join(str(result.email_id) for result in self._pending) or "(none)",
        )
        return True

    async def drain(self) -> None:
        """Return once every added result is stored; raise the store's error if storing
        was given up (see :meth:`give_up_after`)."""
        cancelled = False
        while self._task is not None:
            task = self._task
            while not task.done():
                try:
                    await asyncio.wait({task})
                except asyncio.CancelledError:
                    # Still storing, but no longer for ever: the app or the loop is ending.
                    cancelled = True
                    self.give_up_after(STOP_GRACE_SECONDS)
            if task is self._task:
                self._task = None
            if task.cancelled():  # the loop is shutting down: store what is left from here
                batch, released = self._pending, self._released
                self._pending, self._released = [], []
                if batch or released:
                    flush = asyncio.ensure_future(asyncio.to_thread(self._store, batch, released))
                    cancelled |= await wait_through_cancellation(flush)
                    flush.result()
            elif (error := task.exception()) is not None:
                raise error
        if cancelled:
            raise asyncio.CancelledError
