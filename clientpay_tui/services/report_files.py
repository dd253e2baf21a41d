"""Report rows written as CSV or JSON, a row at a time, safe to open in a spreadsheet.

A spreadsheet runs a CSV cell that starts with ``=``, ``+``, ``-`` or ``@`` (and some run one
after a tab or carriage return) as a formula: such cells get a leading ``'`` (OWASP "CSV
injection"). Control characters are removed from CSV text (they could reach a terminal when the
report goes to standard output); JSON escapes them itself.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services.access_review import AccessReviewRow
from clientpay_tui.services.visible_invoices import FIGURES_CAP
from clientpay_tui.text import printable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMATS = ("csv", "json")

JsonValue = str | int | bool | None


def neutralise(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading ``'`` before a formula start."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _money(cents: int | None) -> str | None:
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


@dataclass(frozen=True)
class Field:
    name: str
    json: Callable[[AccessReviewRow], JsonValue]
    csv: Callable[[AccessReviewRow], str] | None = None
    """The CSV text when it differs from the JSON value printed."""


def _visible_csv(row: AccessReviewRow) -> str:
    if row.visible_invoices_capped:
        return f"more than {FIGURES_CAP}"
    return str(row.visible_invoices)


def _balance_csv(row: AccessReviewRow) -> str:
    if row.open_balance_cents is None:
        return f"not summed (more than {FIGURES_CAP} invoices)"
    return _money(row.open_balance_cents) or ""


FIELDS = [
    Field("payer_id", lambda r: r.payer_id),
    Field("payer", lambda r: r.name),
    Field("email", lambda r: r.email),
    Field("login_status", lambda r: r.login_status.value),
    Field("invited_at", lambda r: _when(r.invited_at)),
    Field("accepted_at", lambda r: _when(r.accepted_at)),
    Field("last_sign_in_at", lambda r: _when(r.last_sign_in_at)),
    Field("mfa", lambda r: r.mfa),
    Field("client_associations", lambda r: r.client_associations),
    Field("matter_associations", lambda r: r.matter_associations),
    Field("invoice_associations", lambda r: r.invoice_associations),
    Field("visible_invoices", lambda r: r.visible_invoices, _visible_csv),
    Field("visible_invoices_capped", lambda r: r.visible_invoices_capped, lambda r: ""),
    Field("open_balance", lambda r: _money(r.open_balance_cents), _balance_csv),
]
"""Columns of the access review. In CSV a capped count reads ``more than 1000`` (and the
balance is not summed), so ``visible_invoices_capped`` is left out there."""
CSV_FIELDS = [field for field in FIELDS if field.name != "visible_invoices_capped"]


def csv_cell(value: object) -> str:
    """A value as CSV text: control characters shown as ``�``, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return neutralise(printable(value))


def write_csv(rows: Iterable[AccessReviewRow], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow([field.name for field in CSV_FIELDS])
    count = 0
    for row in rows:
        writer.writerow(
            [csv_cell(field.csv(row) if field.csv else field.json(row)) for field in CSV_FIELDS]
        )
        count += 1
    return count


def write_json(rows: Iterable[AccessReviewRow], out: TextIO) -> int:
    """One JSON array, written an object at a time."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps({field.name: field.json(row) for field in FIELDS}))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_report(rows: Iterable[AccessReviewRow], out: TextIO, fmt: str) -> int:
    """Write ``rows`` to ``out`` as ``csv`` or ``json``; returns how many were written."""
    if fmt == "csv":
        return write_csv(rows, out)
    if fmt == "json":
        return write_json(rows, out)
    raise ValidationFailed(f"unknown report format {fmt!r} (csv or json)")
