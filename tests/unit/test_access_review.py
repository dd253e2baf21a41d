"""The access review: each column for payers in each login state, formula neutralisation, the
``report access`` command and its audit, and streaming."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from clientpay_tui.db.models import (
    Association,
    AuditEvent,
    EmailStatus,
    IntegrationName,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
)
from clientpay_tui.services.bulk_access import PayerQuery, PayerSelection
from clientpay_tui.services.payers import AccessStatus, PayerForm, StatusFilter
from clientpay_tui.services.report_files import FORMULA_STARTS, csv_cell, neutralise
from clientpay_tui.services.visible_invoices import FIGURES_CAP
from tests.unit.test_cli import Cli


@pytest.fixture
def cli(capsys, monkeypatch, database_url) -> Cli:
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    return Cli(capsys, monkeypatch)


ACCEPTED = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SIGNED_IN = datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
LOCKED_UNTIL = datetime(2099, 1, 1, tzinfo=UTC)
"""Far ahead: the command line runs on the real clock."""


def _payer(services, admin, name, email=None):
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _login(db, payer_id, **values):
    with db.write() as session:
        login_id = session.get(Payer, payer_id).login_id
        session.execute(update(PortalLogin).where(PortalLogin.id == login_id).values(**values))


def _associate(db, clock, payer_id, *, client=None, matter=None, invoice=None):
    with db.write() as session:
        session.add(
            Association(
                payer_id=payer_id,
                client_id=client,
                matter_id=matter,
                invoice_id=invoice,
                created_by="test",
                created_at=clock.now,
            )
        )


@pytest.fixture
def people(services, admin, db, firm, clock):
    """One payer in each login state, with associations at each level."""
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    big = firm.invoice("INV-1", client="C1", matter="C1-1", balance=2_500)
    firm.invoice("INV-2", client="C1", matter="C1-1", balance=0)
    other = firm.invoice("INV-3", client="C2", matter="C2-1", balance=1_234)
    ids = {
        "none": _payer(services, admin, "Ann None"),
        "invited": _payer(services, admin, "Ben Invited", "ben@example.com"),
        "active": _payer(services, admin, "Cat Active", "cat@example.com"),
        "locked": _payer(services, admin, "Dan Locked", "dan@example.com"),
        "failed": _payer(services, admin, "Eve Failed", "eve@example.com"),
    }
    for key in ("invited", "active", "locked", "failed"):
        services.access.grant(admin, ids[key])
    _login(db, ids["active"], status=LoginStatus.ACTIVE, accepted_at=ACCEPTED)
    _login(db, ids["active"], last_sign_in_at=SIGNED_IN)
    _login(db, ids["locked"], status=LoginStatus.ACTIVE, locked_until=LOCKED_UNTIL)
    with db.write() as session:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.payer_id == ids["failed"])
            .values(status=EmailStatus.FAILED)
        )
    _associate(db, clock, ids["active"], client=big.client_id)
    _associate(db, clock, ids["active"], matter=other.matter_id)
    _associate(db, clock, ids["invited"], invoice=other.id)
    services.access.set_mfa_exempt(admin, ids["locked"], True)
    return ids


def _export_audits(db):
    """The summaries of the audited exports, oldest first."""
    with db.read() as session:
        query = select(AuditEvent.summary).where(AuditEvent.action == "report.access")
        return list(session.scalars(query.order_by(AuditEvent.id)))


def _by_name(rows):
    return {row.name.split()[1]: row for row in rows}


def test_each_column_for_each_login_state(services, admin, people, clock):
    rows = _by_name(services.access_review.rows(admin))
    assert [r.login_status for r in rows.values()] == [
        AccessStatus.NONE,
        AccessStatus.INVITED,
        AccessStatus.ACTIVE,
        AccessStatus.LOCKED,
        AccessStatus.EMAIL_FAILED,
    ]
    none, invited, active = rows["None"], rows["Invited"], rows["Active"]
    assert (none.email, none.invited_at, none.accepted_at, none.last_sign_in_at) == (
        None,
        None,
        None,
        None,
    )
    assert invited.email == "ben@example.com" and invited.invited_at == clock.now
    assert invited.accepted_at is None and invited.last_sign_in_at is None
    assert active.accepted_at == ACCEPTED and active.last_sign_in_at == SIGNED_IN
    # Associations by level, and what the portal shows: C1's two invoices + C2's one.
    assert (active.client_associations, active.matter_associations) == (1, 1)
    assert active.invoice_associations == 0
    assert (active.visible_invoices, active.open_balance_cents) == (3, 2_500 + 1_234)
    assert (invited.invoice_associations, invited.visible_invoices) == (1, 1)
    assert invited.open_balance_cents == 1_234
    assert (none.visible_invoices, none.open_balance_cents) == (0, 0)
    assert not any(row.visible_invoices_capped for row in rows.values())
    assert {row.mfa for row in rows.values()} == {"off"}  # portal_mfa is off by default


def test_the_figures_are_the_portals(services, admin, people):
    for row in services.access_review.rows(admin):
        view = services.preview.portal_view(admin, row.payer_id)
        assert row.visible_invoices == view.invoice_count
        assert row.open_balance_cents == view.payable_balance_cents


def test_mfa_column_with_emailed_codes(services, admin, people, settings):
    services.ctx.settings = settings.model_copy(update={"portal_mfa": "email"})
    rows = _by_name(services.access_review.rows(admin))
    assert rows["Locked"].mfa == "exempt" and rows["Active"].mfa == "email code"


def test_search_and_status_filter(services, admin, people):
    found = list(services.access_review.rows(admin, "cat@"))
    assert [row.name for row in found] == ["Cat Active"]
    found = list(services.access_review.rows(admin, statuses={StatusFilter.LOCKED}))
    assert [row.name for row in found] == ["Dan Locked"]
    found = list(services.access_review.rows(admin, "example.com", {StatusFilter.NO_LOGIN}))
    assert found == []


@pytest.mark.parametrize("text", ["", "example.com", "an"])
def test_each_status_filter_exports_what_the_list_shows(services, admin, people, clock, text):
    clock.advance(days=30)  # every welcome link expired: Invite expired has one
    for status in StatusFilter:
        listed = services.payers.matching_ids(admin, text, status)
        exported = [row.payer_id for row in services.access_review.rows(admin, text, {status})]
        assert exported == listed, status
    both = {StatusFilter.INVITE_EXPIRED, StatusFilter.LOCKED}
    found = [row.name for row in services.access_review.rows(admin, statuses=both)]
    assert found == ["Ben Invited", "Dan Locked"]


def test_a_selection_exports_only_the_selected_payers(services, admin, people, db):
    picked = PayerSelection(frozenset({people["failed"], people["none"]}))
    found = [row.name for row in services.access_review.rows(admin, selection=picked)]
    assert found == ["Ann None", "Eve Failed"]  # the list's order
    everyone_but = PayerSelection(
        matching=PayerQuery("example.com", StatusFilter.ALL),
        excluded=frozenset({people["active"]}),
    )
    found = [row.name for row in services.access_review.rows(admin, selection=everyone_but)]
    assert found == ["Ben Invited", "Dan Locked", "Eve Failed"]
    invited = PayerSelection(matching=PayerQuery("", StatusFilter.INVITED))
    out = io.StringIO()
    assert services.access_review.export(admin, out, "csv", selection=invited) == 1
    assert [r["payer"] for r in csv.DictReader(io.StringIO(out.getvalue()))] == ["Ben Invited"]
    services.access_review.export(admin, io.StringIO(), "csv", selection=everyone_but)
    services.access_review.export(admin, io.StringIO(), "csv", selection=picked)
    summaries = _export_audits(db)
    assert summaries == [
        "Access review exported (csv, 1 payers with login status Invited) to standard output",
        "Access review exported (csv, 3 payers matching 'example.com' but 1 unselected)"
        " to standard output",
        "Access review exported (csv, 2 payers selected) to standard output",
    ]


def test_no_integration_means_no_visible_invoices(services, admin, people):
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, False)
    rows = _by_name(services.access_review.rows(admin))
    assert rows["Active"].visible_invoices == 0 and rows["Active"].client_associations == 1


def test_counts_stop_at_the_portals_cap(services, admin, db, firm, clock, monkeypatch):
    import clientpay_tui.services.access_review as review

    monkeypatch.setattr(review, "FIGURES_CAP", 2)
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    first = firm.invoice("INV-1", client="C1")
    for number in ("INV-2", "INV-3"):
        firm.invoice(number, client="C1")
    payer = _payer(services, admin, "Many Invoices")
    _associate(db, clock, payer, client=first.client_id)
    (row,) = services.access_review.rows(admin)
    assert (row.visible_invoices, row.visible_invoices_capped, row.open_balance_cents) == (
        2,
        True,
        None,
    )
    out = io.StringIO()
    services.access_review.export(admin, out, "csv")
    cells = next(r for r in csv.DictReader(io.StringIO(out.getvalue())))
    assert cells["visible_invoices"] == f"more than {FIGURES_CAP}"
    assert cells["open_balance"].startswith("not summed")


# -- formulas -----------------------------------------------------------------------------------


@given(st.sampled_from(FORMULA_STARTS), st.text(max_size=20))
def test_any_formula_start_is_neutralised(start, rest):
    assert neutralise(start + rest) == "'" + start + rest


@given(st.sampled_from(("", *FORMULA_STARTS)), st.text(max_size=30))
def test_csv_cells_never_start_a_formula_nor_hold_control_characters(prefix, value):
    cell = csv_cell(prefix + value)
    assert not cell.startswith(FORMULA_STARTS)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in cell)


def test_hostile_names_export_as_text(services, admin, db):
    for name in ('=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "Zed\x1b[31mRed"):
        payer = _payer(services, admin, "placeholder")
        with db.write() as session:  # as an older version or another tool might have stored it
            session.execute(update(Payer).where(Payer.id == payer).values(name=name))
    out = io.StringIO()
    assert services.access_review.export(admin, out, "csv") == 5
    names = sorted(row["payer"] for row in csv.DictReader(io.StringIO(out.getvalue())))
    assert names == sorted(
        ['\'=HYPERLINK("http://x")', "'+1+1", "'-2+3", "'@SUM(A1)", "Zed\ufffd[31mRed"]
    )
    out = io.StringIO()
    services.access_review.export(admin, out, "json")
    assert "\x1b" not in out.getvalue()  # JSON escapes it
    assert {row["payer"] for row in json.loads(out.getvalue())} >= {"+1+1", "Zed\x1b[31mRed"}


# -- the command --------------------------------------------------------------------------------


def test_report_access_csv_json_and_output(cli, people, db, tmp_path):
    code, out, err = cli("report", "access")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["login_status"] for row in rows] == [
        "None",
        "Invited",
        "Active",
        "Locked",
        "Email failed",
    ]
    assert rows[2]["accepted_at"] == "2026-03-01T08:00:00+00:00"
    assert rows[2]["open_balance"] == "37.34" and rows[2]["visible_invoices"] == "3"
    code, out, err = cli("report", "access", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data[2]["payer"] == "Cat Active" and data[2]["visible_invoices_capped"] is False
    assert data[0]["email"] is None and data[0]["open_balance"] == "0.00"
    target = tmp_path / "review.json"
    code, out, err = cli("report", "access", "--format", "json", "--output", str(target))
    assert code == 0 and out == "" and err.strip() == f"5 payers written to {target}"
    assert json.loads(target.read_text()) == data
    code, out, err = cli("report", "access", "--status", "locked", "--status", "Email failed")
    assert code == 0, err
    assert [row["payer"] for row in csv.DictReader(io.StringIO(out))] == [
        "Dan Locked",
        "Eve Failed",
    ]
    summaries = _export_audits(db)
    assert len(summaries) == 4
    assert summaries[-1] == (
        "Access review exported (csv, 2 payers with login status Email failed/Locked)"
        " to standard output"
    )
    assert summaries[2] == f"Access review exported (json, 5 payers) to {target}"


@pytest.mark.parametrize("where", ["under-a-file", "a-folder"])
def test_report_access_to_a_bad_path_is_one_line(cli, tmp_path, where):
    blocker = tmp_path / "file"
    blocker.write_text("")
    target = blocker / "review.csv" if where == "under-a-file" else tmp_path
    code, out, err = cli("report", "access", "--output", str(target))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("clientpay-tui: error: cannot write "), err


# -- streaming ----------------------------------------------------------------------------------

STREAM_SCRIPT = """
import os, sys, time
from clientpay_tui.cli import main

def high_water_kib():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1])

# Everything imported and connected first: a search that finds nobody.
main(["report", "access", "--search", "nobody-at-all", "--output", os.devnull])
with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # reset the peak RSS to the current RSS (Linux)
before, started = high_water_kib(), time.perf_counter()
main(["report", "access", "--output", sys.argv[1]])
print(before // 1024, high_water_kib() // 1024, round(time.perf_counter() - started, 2))
"""


def test_20000_payers_stream_without_loading_them_all(services, admin, db, tmp_path, clock):
    payers = 20_000
    with db.write() as session:
        session.execute(
            Payer.__table__.insert(),
            [
                {
                    "name": f"Payer {i:05d} " + "x" * 150,
                    "sort_name": f"payer {i:05d} " + "x" * 150,
                    "email": f"p{i}@example.com",
                    "email_key": f"p{i}@example.com",
                    "created_at": clock.now,
                    "updated_at": clock.now,
                    "version": 1,
                    "mfa_exempt": False,
                }
                for i in range(payers)
            ],
        )
    target = tmp_path / "review.csv"
    env = {**os.environ, "CLIENTPAY_DATABASE_URL": str(db.url.render_as_string(False))}
    done = subprocess.run(
        [sys.executable, "-c", STREAM_SCRIPT, str(target)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    before, peak, seconds = (float(value) for value in done.stdout.split())
    with target.open() as lines:
        assert sum(1 for _ in lines) == payers + 1
    print(f"{payers:,} payers: {seconds} s, peak RSS {before:.0f} -> {peak:.0f} MiB")
    # Holding every payer (rows, names, logins) at once grows the peak by tens of MiB.
    assert peak - before < 10
    assert peak < 150
