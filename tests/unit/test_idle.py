"""The idle clock and the sign-in screen's line after an idle sign-out (no UI)."""

from __future__ import annotations

from clientpay_tui.idle import CHECK_SECONDS, IdleWatch, sign_out_notice


class Ticker:
    def __init__(self) -> None:
        self.seconds = 50.0

    def __call__(self) -> float:
        return self.seconds


def test_expires_at_the_limit_and_a_touch_starts_again() -> None:
    ticker = Ticker()
    watch = IdleWatch(2, ticker)
    ticker.seconds += 119
    assert not watch.expired()
    watch.touch()
    ticker.seconds += 119
    assert not watch.expired()
    ticker.seconds += 1
    assert watch.expired()


def test_zero_never_expires() -> None:
    ticker = Ticker()
    watch = IdleWatch(0, ticker)
    ticker.seconds += 10**9
    assert not watch.expired()


def test_looks_at_a_tenth_of_the_limit_at_most_every_15_seconds() -> None:
    assert IdleWatch(1).check_seconds == 6.0
    assert IdleWatch(30).check_seconds == CHECK_SECONDS


def test_the_notice_says_what_was_kept_and_what_was_not() -> None:
    assert sign_out_notice(1, []) == (
        "Signed out after 1 minute without a key press. Everything saved is kept."
    )
    assert sign_out_notice(30, ["Ada [b]", "the new payer Grace"]) == (
        "Signed out after 30 minutes without a key press. Everything saved is kept; "
        "unsaved changes to Ada [b], the new payer Grace were discarded."
    )
