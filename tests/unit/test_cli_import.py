"""``clientpay-tui import payers|invoices``: good files, bad rows by line number, bad files."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time

import pytest
from sqlalchemy import event, func, select

from clientpay_tui.cli import main
from clientpay_tui.db.models import AuditEvent, Client, Invoice, InvoiceSource, Matter, Payer

INVOICE_HEADER = (
    "client_number,client_name,matter_number,matter_description,invoice_number,invoice_date,"
    "amount,balance,source\n"
)


@pytest.fixture
def run(capsys, monkeypatch, database_url, tmp_path):
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))

    def run(kind: str, content: str | bytes, *flags: str) -> tuple[int, str, str]:
        path = tmp_path / f"{kind}.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return invoke("import", kind, str(path), *flags)

    def invoke(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return code, captured.out, captured.err

    run.invoke = invoke
    run.path = tmp_path
    return run


def _count(db, model) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# -- payers -------------------------------------------------------------------------------------

BAD_PAYERS = (
    "name,email,notes\n"  # line 1
    'Good One,good1@example.com,"first line\n'  # line 2 …
    'second line"\n'  # … line 3: one row over two lines
    "Bad Email,not-an-address,\n"  # line 4
    "Good Two,good2@example.com,\n"  # line 5
    ",nameless@example.com,\n"  # line 6
    "\n"  # line 7: blank lines are skipped
    "Too,many,fields,here\n"  # line 8
)


def test_import_payers_good_file(run, db):
    code, out, err = run("payers", "\ufeffName,Email,Phone\nAda,ada@example.com,+44 1\nBob,,\n")
    assert (code, out, err) == (0, "imported 2 payers\n", "")
    with db.read() as session:
        rows = session.execute(
            select(Payer.name, Payer.email, Payer.phone).order_by(Payer.id)
        ).all()
        assert session.scalar(select(AuditEvent.summary)) == "Imported 2 payers from payers.csv"
    assert [tuple(r) for r in rows] == [("Ada", "ada@example.com", "+44 1"), ("Bob", None, None)]


def test_import_payers_bad_rows_refuse_the_whole_file(run, db):
    code, out, err = run("payers", BAD_PAYERS)

    assert code == 1 and out == ""
    lines = err.splitlines()
    assert lines[0].startswith("  line 4: Invalid email address 'not-an-address'")
    assert lines[1] == "  line 6: Name is required."
    assert lines[2] == "  line 8: expected 3 fields, found 4"
    assert lines[3] == (
        "clientpay-tui: error: refused the whole file: 3 bad row(s), nothing imported "
        "(use --keep-good-rows to import the good rows)"
    )
    assert _count(db, Payer) == 0


def test_import_payers_keep_good_rows(run, db):
    code, out, err = run("payers", BAD_PAYERS, "--keep-good-rows")

    assert code == 1 and out == ""
    assert [line.split(":")[0].strip() for line in err.splitlines()[:3]] == [
        "line 4",
        "line 6",
        "line 8",
    ]
    assert err.splitlines()[-1] == "clientpay-tui: error: imported 2 payers; skipped 3 bad row(s)"
    with db.read() as session:
        rows = session.execute(select(Payer.name, Payer.notes).order_by(Payer.id)).all()
    assert [tuple(r) for r in rows] == [("Good One", "first line\nsecond line"), ("Good Two", None)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "is empty: expected a header line with name, email"),
        ("name,phone\nAda,1\n", "line 1: missing column(s) email"),
        ("name,email,age\nAda,a@example.com,3\n", "line 1: unknown column(s) age"),
        (b"name,email\nAda,a@example.com\nJos\xe9,j@example.com\n", "line 3 is not UTF-8 text"),
        ('name,email\n"Ada,a@example.com\n', "line 2: unexpected end of data"),
    ],
)
def test_import_payers_bad_files(run, db, content, expected):
    code, out, err = run("payers", content)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("clientpay-tui: error: ")
    assert expected in err
    assert _count(db, Payer) == 0


def test_import_missing_file_and_directory(run):
    code, _out, err = run.invoke("import", "payers", str(run.path / "nope.csv"))
    assert code == 1 and err == f"clientpay-tui: error: no such file: {run.path / 'nope.csv'}\n"
    code, _out, err = run.invoke("import", "invoices", str(run.path))
    assert code == 1 and err == f"clientpay-tui: error: {run.path} is a directory, not a CSV file\n"


# -- invoices -----------------------------------------------------------------------------------

GOOD_INVOICES = INVOICE_HEADER + (
    'C-1,Acme Ltd,M-1,Lease review,INV-1,2026-01-31,"1,234.50",100.05,connect\n'
    "C-1,Acme Ltd,M-1,,INV-2,2026-02-01,10,0,Internal\n"
    "C-2,Birch LLC,,,INV-3,2026-02-02,0.10,0.10,external\n"
)


def test_import_invoices_good_file_and_again(run, db):
    code, out, err = run("invoices", GOOD_INVOICES)
    assert (code, out, err) == (0, "imported 3 invoices\n", "")
    with db.read() as session:
        invoices = session.execute(
            select(
                Invoice.number,
                Invoice.amount_cents,
                Invoice.balance_cents,
                Invoice.source,
                Invoice.matter_id,
            ).order_by(Invoice.number)
        ).all()
        assert session.scalar(select(func.count()).select_from(Client)) == 2
        assert [tuple(m) for m in session.execute(select(Matter.number, Matter.description))] == [
            ("M-1", "Lease review")
        ]
    assert [tuple(i[:4]) for i in invoices] == [
        ("INV-1", 123_450, 10_005, InvoiceSource.CONNECT),
        ("INV-2", 1_000, 0, InvoiceSource.INTERNAL),
        ("INV-3", 10, 10, InvoiceSource.EXTERNAL),
    ]
    assert invoices[2].matter_id is None

    code, out, _ = run("invoices", GOOD_INVOICES.replace("100.05", "0"))
    assert (code, out) == (0, "imported 0 invoices, updated 3\n")
    with db.read() as session:
        assert session.scalar(select(Invoice.balance_cents).where(Invoice.number == "INV-1")) == 0


BAD_INVOICES = INVOICE_HEADER + (
    'C-1,Acme,M-1,"Lease\nreview",INV-1,2026-01-31,10.00,5.00,connect\n'  # lines 2-3: good
    "C-1,Acme,M-1,x,INV-2,2026-01-31,10.123,0,connect\n"  # 4
    "C-1,Acme,M-1,x,INV-3,2026-01-31,-5.00,0,connect\n"  # 5
    "C-1,Acme,M-1,x,INV-4,2026-01-31,5.00,6.00,connect\n"  # 6
    "C-1,Acme,M-1,x,INV-5,31/01/2026,5.00,0,connect\n"  # 7
    "C-1,Acme,M-1,x,INV-6,2026-01-31,5.00,0,paypal\n"  # 8
    "C-1,Acme,M-1,x,INV-7,2026-01-31,lots,0,connect\n"  # 9
    ",Acme,M-1,x,INV-8,2026-01-31,5.00,0,connect\n"  # 10
    "C-1,Acme,M-2,y,INV-9,2026-02-01,7.00,7.00,internal\n"  # 11: good
)
BAD_INVOICE_LINES = [
    ("line 4", "amount '10.123' must have at most two decimals"),
    ("line 5", "amount '-5.00' must not be negative"),
    ("line 6", "balance 6.00 is more than amount 5.00"),
    ("line 7", "invoice_date '31/01/2026' is not a date like 2026-01-31"),
    ("line 8", "source 'paypal' must be internal, connect or external"),
    ("line 9", "amount 'lots' is not an amount like 1234.50"),
    ("line 10", "client_number is empty"),
]


def _reported(err: str) -> list[tuple[str, str]]:
    return [
        tuple(part.strip() for part in line.split(":", 1))
        for line in err.splitlines()
        if line.startswith("  line ")
    ]


def test_import_invoices_bad_rows_refuse_the_whole_file(run, db):
    code, out, err = run("invoices", BAD_INVOICES)
    assert code == 1 and out == ""
    assert _reported(err) == BAD_INVOICE_LINES
    assert err.splitlines()[-1].startswith(
        "clientpay-tui: error: refused the whole file: 7 bad row(s)"
    )
    assert (_count(db, Invoice), _count(db, Client), _count(db, Matter)) == (0, 0, 0)


def test_import_invoices_keep_good_rows(run, db):
    code, _out, err = run("invoices", BAD_INVOICES, "--keep-good-rows")
    assert code == 1
    assert _reported(err) == BAD_INVOICE_LINES
    assert err.splitlines()[-1] == "clientpay-tui: error: imported 2 invoices; skipped 7 bad row(s)"
    with db.read() as session:
        assert list(session.scalars(select(Invoice.number).order_by(Invoice.number))) == [
            "INV-1",
            "INV-9",
        ]
        assert (
            session.scalar(select(Matter.description).where(Matter.number == "M-1"))
            == "Lease review"
        )


def test_import_invoices_refuses_moving_an_invoice_to_another_client(run, db):
    run("invoices", GOOD_INVOICES)
    code, _out, err = run(
        "invoices", INVOICE_HEADER + "C-9,Other,,,INV-1,2026-01-31,1.00,0,connect\n"
    )
    assert code == 1
    assert _reported(err) == [("line 2", "invoice INV-1 already exists under another client")]
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Client)) == 2


def test_import_invoices_missing_columns(run):
    code, _out, err = run("invoices", "client_number,invoice_number\nC1,I1\n")
    assert code == 1
    assert "line 1: missing column(s) client_name, matter_number" in err


# -- strict files: repeated columns, plain amounts, ISO dates, repeated invoices -----------------


def test_a_header_that_names_a_column_twice_is_refused(run, db):
    code, out, err = run("payers", "name,email,Name\nAda,ada@example.com,Bob\n")
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.endswith("line 1: column(s) named more than once: name")
    assert _count(db, Payer) == 0


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1e30", "amount '1e30' is not an amount like 1234.50"),
        ("9" * 30, f"amount '{'9' * 30}' is too large"),
        pytest.param("9" * 5000, "is too large", id="5000-digits"),
        ("100000000000.01", "amount '100000000000.01' is too large"),
        ("1e2", "amount '1e2' is not an amount like 1234.50"),
        ("1_000", "amount '1_000' is not an amount like 1234.50"),
        (" 12", "amount ' 12' is not an amount like 1234.50"),
        ("12 ", "amount '12 ' is not an amount like 1234.50"),
        ("+5", "amount '+5' is not an amount like 1234.50"),
        ("NaN", "amount 'NaN' is not an amount like 1234.50"),
        ("Infinity", "amount 'Infinity' is not an amount like 1234.50"),
        ("\u0661\u0662", "is not an amount like 1234.50"),  # Arabic-Indic digits
        ("1,23", "amount '1,23' is not an amount like 1234.50"),
        ("12.", "amount '12.' is not an amount like 1234.50"),
    ],
)
def test_amounts_are_plain_decimals(run, db, amount, expected):
    row = f'C-1,Acme,,,INV-1,2026-01-31,"{amount}",0,connect\n'
    code, out, err = run("invoices", INVOICE_HEADER + row)
    assert (code, out) == (1, "")
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 2, err
    assert lines[0].startswith("  line 2: ") and expected in lines[0]
    assert lines[1].startswith("clientpay-tui: error: refused the whole file: 1 bad row(s)")
    assert (_count(db, Invoice), _count(db, Client)) == (0, 0)


@pytest.mark.parametrize(
    "day", ["20240228", "2024-W09-3", "2024-059", " 2024-02-28", "2024-02-30", "2024-2-28"]
)
def test_dates_are_year_month_day_only(run, db, day):
    row = f'C-1,Acme,,,INV-1,"{day}",5.00,0,connect\n'
    code, _out, err = run("invoices", INVOICE_HEADER + row)
    assert code == 1
    assert _reported(err) == [("line 2", f"invoice_date {day!r} is not a date like 2026-01-31")]
    assert _count(db, Invoice) == 0


def test_plain_amounts_are_read_exactly(run, db):
    rows = (
        "C-1,Acme,,,INV-1,2024-02-29,0,0,connect\n"
        'C-1,Acme,,,INV-2,2024-02-29,"1,234,567.8",0.05,connect\n'
        "C-1,Acme,,,INV-3,2024-02-29,100000000000.00,007.10,connect\n"
    )
    assert run("invoices", INVOICE_HEADER + rows)[:2] == (0, "imported 3 invoices\n")
    with db.read() as session:
        stored = session.execute(
            select(Invoice.amount_cents, Invoice.balance_cents).order_by(Invoice.number)
        ).all()
    assert [tuple(r) for r in stored] == [(0, 0), (123_456_780, 5), (10**13, 710)]


def test_an_invoice_number_repeated_in_one_file_is_a_bad_row_naming_both_lines(run, db):
    rows = (
        "C-1,Acme,,,INV-1,2026-01-31,5.00,0,connect\n"  # line 2
        "C-1,Acme,,,INV-2,2026-01-31,6.00,0,connect\n"  # line 3
        "C-1,Acme,,,inv-1,2026-02-28,7.00,0,connect\n"  # line 4: the same number
    )
    code, _out, err = run("invoices", INVOICE_HEADER + rows)
    assert code == 1
    assert _reported(err) == [("line 4", "invoice inv-1 is also on line 2")]
    assert _count(db, Invoice) == 0

    code, _out, err = run("invoices", INVOICE_HEADER + rows, "--keep-good-rows")
    assert err.splitlines()[-1] == "clientpay-tui: error: imported 2 invoices; skipped 1 bad row(s)"
    with db.read() as session:
        assert session.scalar(select(Invoice.amount_cents).where(Invoice.number == "INV-1")) == 500


def test_importing_the_same_payers_twice_adds_them_once(run, db):
    content = (
        "name,email\n"
        "Ada Lovelace,ada@example.com\n"
        "Ada Lovelace,ADA@example.com\n"  # the same payer again in the same file
        "Ada Byron,ada@example.com\n"  # another payer sharing the address: added
        "No Email,\n"
    )
    assert run("payers", content) == (
        0,
        "imported 3 payers; 1 already there (same name and email), left as they were\n",
        "",
    )
    code, out, err = run("payers", content.replace("Ada Lovelace", "ada lovelace"))
    assert (code, err) == (0, "")
    # A row without an email address cannot be matched: it is added again.
    assert out == "imported 1 payers; 3 already there (same name and email), left as they were\n"
    with db.read() as session:
        names = list(session.scalars(select(Payer.name).order_by(Payer.id)))
        summaries = list(session.scalars(select(AuditEvent.summary).order_by(AuditEvent.id)))
    assert names == ["Ada Lovelace", "Ada Byron", "No Email", "No Email"]
    assert summaries[-1] == "Imported 1 payers from payers.csv (3 already there)"


# -- large files: bounded memory, short write transactions ---------------------------------------

# The peak is read from VmHWM, which belongs to this process's own memory: getrusage's
# ru_maxrss survives exec on Linux, so a child of a large pytest process reports its parent's
# peak (264 MiB in a full run, for an import that peaks at ~80 MiB).
MEASURED_IMPORT = """
import re, sys
from clientpay_tui.cli import main
try:
    main(sys.argv[1:])
finally:
    with open("/proc/self/status", encoding="ascii") as status:
        peak = re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1)
    print(f"maxrss_kib={peak}", file=sys.stderr)
"""


def _payers_file(path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as file:
        file.write("name,email,phone,notes\n")
        for n in range(rows):
            file.write(f"Payer Number {n},payer{n}@example.com,+1 555 {n:07d},note {n}\n")


def test_a_large_payers_file_imports_in_bounded_memory(database_url, tmp_path):
    # 20,000 rows took 153 MiB when the file and every payer were held at once (841 MiB at
    # 200,000); streamed, checked and written in batches the process stays near its imports
    # (about 80 MiB; 112 MiB seen once on a loaded machine).
    path = tmp_path / "many.csv"
    _payers_file(path, 20_000)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTPAY_")}
    env["CLIENTPAY_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_IMPORT, "import", "payers", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "imported 20000 payers\n"), done.stderr
    peak_mib = int(done.stderr.split("maxrss_kib=")[1]) / 1024
    assert peak_mib < 125, f"peak RSS {peak_mib:.0f} MiB"


def test_a_large_file_is_written_in_short_transactions(services, admin, db, tmp_path, monkeypatch):
    from clientpay_tui.services import imports

    monkeypatch.setattr(imports, "BATCH_ROWS", 100)
    path = tmp_path / "many.csv"
    _payers_file(path, 1_000)
    commits: list[float] = []
    event.listen(db.engine, "commit", lambda _conn: commits.append(time.monotonic()))
    report = services.imports.payers(admin, path)
    assert (report.imported, report.error_count) == (1_000, 0)
    # Ten batches and the audit entry: each transaction holds the write lock for 100 rows.
    assert len(commits) == 11
    assert _count(db, Payer) == 1_000


@pytest.mark.parametrize("rows", [3, 3_000])
def test_a_full_temporary_directory_is_one_line_and_nothing_is_imported(run, db, monkeypatch, rows):
    from clientpay_tui.services import csv_files

    # /dev/full: every write fails with "No space left on device", as in a full /tmp.
    full = lambda: open("/dev/full", "w+b")  # noqa: E731, SIM115 - the spool closes it
    monkeypatch.setattr(csv_files.tempfile, "TemporaryFile", full)
    content = "name,email\n" + "".join(f"P {n},p{n}@example.com\n" for n in range(rows))
    code, out, err = run("payers", content)
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    assert line.startswith("clientpay-tui: error: cannot keep the checked rows in a temporary")
    assert line.endswith("No space left on device; nothing imported")
    assert _count(db, Payer) == 0
