"""The shared lockout rule, on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clientpay_tui.config import load_settings
from clientpay_tui.services import lockout
from clientpay_tui.services.lockout import LockoutPolicy

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = LockoutPolicy(attempts=5, window=timedelta(minutes=15), duration=timedelta(minutes=15))


@dataclass
class Account:
    failed_attempts: int = 0
    first_failed_at: datetime | None = None
    locked_until: datetime | None = None


def test_the_fifth_failure_within_the_window_locks():
    account = Account()
    results = [lockout.record_failure(account, POLICY, T0 + timedelta(minutes=i)) for i in range(5)]
    assert results == [False, False, False, False, True]
    assert account.locked_until == T0 + timedelta(minutes=4 + 15)
    assert (account.failed_attempts, account.first_failed_at) == (0, None)
    assert lockout.is_locked(account, account.locked_until - timedelta(microseconds=1))
    assert not lockout.is_locked(account, account.locked_until)


def test_the_window_is_measured_from_the_first_counted_failure():
    account = Account()
    for i in range(4):
        lockout.record_failure(account, POLICY, T0 + timedelta(minutes=i))
    # Exactly 15 minutes after the first failure still counts …
    assert lockout.record_failure(account, POLICY, T0 + timedelta(minutes=15))
    account = Account()
    for i in range(4):
        lockout.record_failure(account, POLICY, T0 + timedelta(minutes=i))
    # … a moment later starts a new count.
    assert not lockout.record_failure(account, POLICY, T0 + timedelta(minutes=15, seconds=1))
    assert account.failed_attempts == 1


def test_clear_forgets_everything():
    account = Account(3, T0, T0 + timedelta(minutes=5))
    lockout.clear(account)
    assert account == Account()


def test_the_policy_comes_from_settings():
    tuned = load_settings(lockout_attempts=3, lockout_window_minutes=2, lockout_minutes=60)
    assert LockoutPolicy.from_settings(tuned) == LockoutPolicy(
        3, timedelta(minutes=2), timedelta(minutes=60)
    )
