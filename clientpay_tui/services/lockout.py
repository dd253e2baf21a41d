"""The one rule for counting failed sign-ins and locking an account, for staff and payers.

``lockout_attempts`` failures within ``lockout_window_minutes`` of the first one lock the account
for ``lockout_minutes``. A success, an unlock by staff or the end of the lock starts the count
again. Both :class:`~clientpay_tui.db.models.Staff` and
:class:`~clientpay_tui.db.models.PortalLogin` carry the three columns this needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from clientpay_tui.config import Settings


class Lockable(Protocol):
    """An account row with a failure count and a lock."""

    failed_attempts: int
    first_failed_at: datetime | None
    locked_until: datetime | None


@dataclass(frozen=True)
class LockoutPolicy:
    attempts: int
    window: timedelta
    duration: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            attempts=settings.lockout_attempts,
            window=timedelta(minutes=settings.lockout_window_minutes),
            duration=timedelta(minutes=settings.lockout_minutes),
        )


def is_locked(account: Lockable, now: datetime) -> bool:
    """The account is locked at ``now`` (a lock ends by itself at ``locked_until``)."""
    return account.locked_until is not None and account.locked_until > now


def record_failure(account: Lockable, policy: LockoutPolicy, now: datetime) -> bool:
    """Count one failed sign-in. Returns True when this failure locked the account.

    A failure more than ``policy.window`` after the first counted one starts a new count, so
    a typo a day does not add up to a lock.
    """
    if account.first_failed_at is None or now - account.first_failed_at > policy.window:
        account.first_failed_at, account.failed_attempts = now, 0
    account.failed_attempts = (account.failed_attempts or 0) + 1
    if account.failed_attempts < policy.attempts:
        return False
    account.locked_until = now + policy.duration
    account.failed_attempts, account.first_failed_at = 0, None
    return True


def clear(account: Lockable) -> None:
    """Forget failures and any lock: after a good sign-in, a reset or a staff unlock."""
    account.failed_attempts, account.first_failed_at, account.locked_until = 0, None, None
