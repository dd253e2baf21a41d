"""CSV imports of arbitrary cells: never a crash, every bad row reported by the line it starts
on, every good row stored exactly as cleaned, nothing written when the file is refused."""

from __future__ import annotations

import csv
import io
import itertools
import re

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from clientpay_tui.db.models import Invoice, Payer
from clientpay_tui.errors import ImportFailed, ValidationFailed
from clientpay_tui.services import validation
from clientpay_tui.services.imports import INVOICE_COLUMNS
from clientpay_tui.text import clean_text

from .conftest import HOSTILE_PIECES, emailish

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_files = itertools.count()
CSV_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Cells a UTF-8 file can hold: every code point but the lone surrogates.
cell = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=15),
    st.sampled_from([p for p in HOSTILE_PIECES if p != "\ud800"]),
    st.sampled_from(["", " ", ",", '"', '""', "\r", "\r\n", "\n\n", '"a,b"']),
)


def _encodable(value: str) -> bool:
    """A UTF-8 file cannot hold lone surrogates (any of U+D800..U+DFFF)."""
    return not any("\ud800" <= char <= "\udfff" for char in value)


phoneish = st.one_of(st.from_regex(r"\+?[0-9 ()-]{3,20}", fullmatch=True), cell)


def _write(tmp_path, header: list[str], rows: list[list[str]]) -> tuple[object, list[int]]:
    """Write a CSV as a spreadsheet would; return its path and each row's first line."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)  # "\r\n" like Excel, which also quotes any cell holding CR or LF
    writer.writerow(header)
    starts, line = [], 2
    for row in rows:
        before = buffer.tell()
        writer.writerow(row)
        starts.append(line)
        line += len(_LINE_BREAK.findall(buffer.getvalue()[before:]))
    path = tmp_path / f"import-{next(_files)}.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path, starts


def _payer_outcome(row: list[str]) -> tuple | str | None:
    """What the import should make of a row: the stored fields, an error, or None (blank)."""
    if not any(value.strip() for value in row):
        return None
    if len(row) != 4:
        return "error"
    try:
        email = validation.email_address(row[1])
        return (
            validation.payer_name(row[0]),
            email[0] if email else None,
            validation.phone_number(row[2]),
            validation.notes_text(row[3]),
        )
    except ValidationFailed:
        return "error"


payer_row = st.one_of(
    st.tuples(cell, emailish.filter(_encodable), phoneish, cell).map(list),
    st.lists(cell, max_size=6),  # any number of fields
)


@CSV_SETTINGS
@given(rows=st.lists(payer_row, max_size=8), keep_good_rows=st.booleans())
def test_payer_import_reports_bad_rows_by_line_and_stores_good_rows_as_cleaned(
    services, admin, tmp_path, rows, keep_good_rows
):
    path, starts = _write(tmp_path, ["name", "email", "phone", "notes"], rows)
    outcomes = [_payer_outcome(row) for row in rows]
    bad_lines = [line for line, out in zip(starts, outcomes, strict=True) if out == "error"]
    with services.db.read() as session:
        before = session.scalar(select(func.coalesce(func.max(Payer.id), 0)))
        # Earlier examples' payers: a row with the name and email of one is already there.
        known = {
            (email_key, sort_name)
            for email_key, sort_name in session.execute(select(Payer.email_key, Payer.sort_name))
            if email_key is not None
        }
    good, already_there = [], 0
    for out in outcomes:
        if not isinstance(out, tuple):
            continue
        key = (out[1].casefold(), validation.search_key(out[0])) if out[1] else None
        if key in known:
            already_there += 1
            continue
        if key is not None:
            known.add(key)
        good.append(out)

    report = services.imports.payers(admin, path, keep_good_rows=keep_good_rows)

    event(f"{'some' if bad_lines else 'no'} bad rows, keep={keep_good_rows}")
    assert [error.line for error in report.errors] == bad_lines
    assert all("\n" not in str(error) and "\x1b" not in str(error) for error in report.errors)
    assert report.error_count == len(bad_lines)
    assert report.refused == bool(bad_lines and not keep_good_rows)
    with services.db.read() as session:
        stored = session.execute(
            select(Payer.name, Payer.email, Payer.phone, Payer.notes)
            .where(Payer.id > before)
            .order_by(Payer.id)
        ).all()
    assert [tuple(row) for row in stored] == ([] if report.refused else good)
    assert report.imported == len(stored)
    if not report.refused:
        assert report.already_there == already_there


invoice_row = st.lists(
    st.one_of(
        cell,
        st.sampled_from(["C1", "Client One", "2026-01-31", "12.50", "0", "internal", "connect"]),
    ),
    min_size=9,
    max_size=9,
)
plausible_invoice_row = st.builds(
    lambda cells, hostile, where: [
        *cells[:where],
        hostile,
        *cells[where + 1 :],
    ],
    st.just(["C1", "Client One", "M1", "Matter", "INV1", "2026-01-31", "12.50", "2.50", "connect"]),
    cell,
    st.integers(0, 8),
)


@CSV_SETTINGS
@given(rows=st.lists(st.one_of(invoice_row, plausible_invoice_row), max_size=6))
def test_invoice_import_never_crashes_and_names_the_lines_it_skipped(
    services, admin, tmp_path, rows
):
    path, starts = _write(tmp_path, list(INVOICE_COLUMNS), rows)
    report = services.imports.invoices(admin, path, keep_good_rows=True)
    data_lines = {
        line for line, row in zip(starts, rows, strict=True) if any(v.strip() for v in row)
    }
    error_lines = [error.line for error in report.errors]
    event("some bad rows" if error_lines else "no bad rows")
    assert set(error_lines) <= data_lines and error_lines == sorted(error_lines)
    assert report.imported + report.updated + report.error_count == len(data_lines)
    good_keys = {
        validation.number_key(row[4])
        for line, row in zip(starts, rows, strict=True)
        if line in data_lines and line not in error_lines
    }
    with services.db.read() as session:
        stored = set(
            session.scalars(select(Invoice.number_key).where(Invoice.number_key.in_(good_keys)))
        )
    assert stored == good_keys


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'name,email\nAda,ada@example.com\n"Bob,bob@example.com\n', "line 3"),
        (b'name,email\nAda,ada@example.com\nBob,"bob@example.com"x\n', "line 3"),
        (b"name,email\nAda,ada@example.com\n\xff\xfe,bad@example.com\n", "line 3 is not UTF-8"),
        (b"name,email\nAda,ada@\xed\xa0\x80example.com\n", "line 2 is not UTF-8"),
        (b"", "is empty"),
        (b"nom,courriel\nAda,ada@example.com\n", "line 1: missing column"),
        (b"name,email,\x1b[2Jevil\n", "line 1: unknown column"),
    ],
)
def test_malformed_files_are_refused_in_one_line_naming_the_line(
    services, admin, tmp_path, content, message
):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFailed) as refused:
        services.imports.payers(admin, path, keep_good_rows=True)
    assert message in str(refused.value)
    assert "\n" not in str(refused.value) and "\x1b" not in str(refused.value)
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Payer)) == 0


def test_a_bom_crlf_file_with_nul_and_escape_codes_imports_cleanly(services, admin, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffname,email,notes\r\n"
        '"Ada\x00 \x1b[31mLovelace\x1b[0m",ada@example.com,"two\r\nlines"\r\n'
        "\u202eevil\u202c,e@example.com,\r\n".encode()
    )
    report = services.imports.payers(admin, path)
    assert (report.imported, report.error_count) == (2, 0)
    with services.db.read() as session:
        rows = session.execute(select(Payer.name, Payer.notes).order_by(Payer.id)).all()
    assert [tuple(r) for r in rows] == [("Ada [31mLovelace[0m", "two\nlines"), ("evil", None)]
    assert clean_text("Ada\x00 \x1b[31mLovelace\x1b[0m") == rows[0][0]
