"""Database work for the async sender: run in a thread, seen through cancellation, batched.

The sender lives on an event loop (the app's, or the worker's) and uses the synchronous
:class:`~clientpay_tui.db.engine.Database` from threads, so the loop never waits for the
database and no connection is shared between loops.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from clientpay_tui.mail.delivery import DeliveryResult

log = logging.getLogger(__name__)

T = TypeVar("T")
ResultCallback = Callable[[DeliveryResult], None]


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

    Args:
        store: stores a batch in one transaction (called in a thread).
        report: called on the loop for each result once it is stored.
        linger: seconds to wait for more results before a transaction starts.
    """

    def __init__(
        self,
        store: Callable[[list[DeliveryResult]], object],
        report: ResultCallback,
        *,
        linger: float = 0.02,
    ) -> None:
        self._store = store
        self._report = report
        self._linger = linger
        self._pending: list[DeliveryResult] = []
        self._task: asyncio.Task[None] | None = None

    def add(self, result: DeliveryResult) -> None:
        self._pending.append(result)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            # Gather what arrives in the next few milliseconds into the same transaction:
            # fewer commits, and less database work competing with the loop for the GIL.
            await asyncio.sleep(self._linger)
            batch, self._pending = self._pending, []
            await in_thread(functools.partial(self._store, batch))
            for result in batch:
                try:
                    self._report(result)
                except Exception:  # the UI's problem must not stop delivery
                    log.exception("mail: the result callback failed for email %s", result.email_id)

    async def drain(self) -> None:
        """Return once every added result is stored; raise the store's error if it failed."""
        cancelled = False
        while self._task is not None:
            task = self._task
            cancelled |= await wait_through_cancellation(task)
            if task is self._task:
                self._task = None
            if task.cancelled():  # the loop is shutting down: store what is left from here
                batch, self._pending = self._pending, []
                if batch:
                    flush = asyncio.ensure_future(asyncio.to_thread(self._store, batch))
                    cancelled |= await wait_through_cancellation(flush)
                    flush.result()
            elif (error := task.exception()) is not None:
                raise error
        if cancelled:
            raise asyncio.CancelledError
