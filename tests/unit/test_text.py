"""plural(): counts as people read them, large ones too."""

from __future__ import annotations

import pytest

from clientpay_tui.text import plural


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "0 invoices"),
        (1, "1 invoice"),
        (2, "2 invoices"),
        (1.5, "1.5 invoices"),
        (2.0, "2 invoices"),
        (1_000_000, "1,000,000 invoices"),  # not "1e+06"
        (1_234_567, "1,234,567 invoices"),
    ],
)
def test_plural(count, expected):
    assert plural(count, "invoice") == expected


def test_irregular_plural():
    assert plural(3, "child", "children") == "3 children"
