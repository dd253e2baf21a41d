"""Counts in messages: singular, plural, thousands separators, never an exponent."""

from __future__ import annotations

import pytest

from clientpay_tui.text import plural


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 invoices"),
        (1, "1 invoice"),
        (2, "2 invoices"),
        (90_659, "90,659 invoices"),
        (1_000_000, "1,000,000 invoices"),
        (1_234_567, "1,234,567 invoices"),  # not "1.23457e+06"
        (12_345_678, "12,345,678 invoices"),
        (1.5, "1.5 invoices"),
        (2.0, "2 invoices"),
    ],
)
def test_plural(count: float, expected: str) -> None:
    assert plural(count, "invoice") == expected


def test_irregular_plural() -> None:
    assert plural(3, "match", "matches") == "3 matches"
    assert plural(1, "match", "matches") == "1 match"
    assert plural(3, "child", "children") == "3 children"
