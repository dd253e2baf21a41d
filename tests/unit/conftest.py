"""Fixtures shared by the unit tests of one area."""

from __future__ import annotations

import pytest

from clientpay_tui.db.models import InvoiceSource


@pytest.fixture
def book(firm):
    rows = [
        (
            "INV-100",
            "C-100",
            "Granite Ltd",
            "M-100-1",
            "Lease review",
            "2026-01-10",
            5_000,
            InvoiceSource.CONNECT,
        ),
        (
            "INV-101",
            "C-100",
            "Granite Ltd",
            "M-100-2",
            "Tax planning",
            "2026-02-10",
            0,
            InvoiceSource.INTERNAL,
        ),
        (
            "INV-200",
            "C-200",
            "Birch & Oak LLC",
            "M-200-1",
            "Trademark filing",
            "2026-03-10",
            700,
            InvoiceSource.EXTERNAL,
        ),
        ("X-INV-1", "Z-9", "100% Safe_Co", None, "", "2025-12-31", 0, InvoiceSource.CONNECT),
    ]
    for number, client, name, matter, description, day, balance, source in rows:
        firm.invoice(
            number,
            client=client,
            client_name=name,
            matter=matter,
            description=description,
            day=day,
            balance=balance,
            source=source,
        )
