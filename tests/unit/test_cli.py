"""The command line: db, staff, integration and seed commands, and its one-line errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from clientpay_tui.cli import main
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import AuditEvent, Invoice, Payer, Role
from clientpay_tui.services.staff import StaffService

SCRIPT = Path(sys.executable).with_name("clientpay-tui")
UNREACHABLE = "postgresql+psycopg://clientpay:secret@127.0.0.1:9/clientpay?connect_timeout=2"


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys = capsys
        self.monkeypatch = monkeypatch

    def __call__(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        """Run ``clientpay-tui ARGS`` in this process; returns (exit code, stdout, stderr)."""
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err


@pytest.fixture
def cli(capsys, monkeypatch, database_url) -> Cli:
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    return Cli(capsys, monkeypatch)


def _one_error_line(code: int, err: str, expected: str) -> None:
    assert code == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("clientpay-tui: error: "), err
    assert expected in lines[0], err
    assert "Traceback" not in err


# -- db -----------------------------------------------------------------------------------------


def test_db_upgrade_creates_then_reports_current(capsys, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'new' / 'cp.db'}"
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", url)
    cli = Cli(capsys, monkeypatch)
    head = schema.head_revision()

    assert cli("db", "upgrade") == (0, f"{url}: upgraded from empty to {head}\n", "")
    assert cli("db", "upgrade") == (0, f"{url}: already at {head}\n", "")
    assert cli("db", "current") == (0, f"database: {head}\nneeded:   {head}\n", "")


def test_db_current_of_an_empty_database(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cp.db'}")
    code, out, _ = Cli(capsys, monkeypatch)("db", "current")
    assert code == 0 and out.startswith("database: empty\n")


def test_other_commands_refuse_an_outdated_database(
    capsys, monkeypatch, empty_database_url, newer_code
):
    old, newer = newer_code
    db = Database(empty_database_url)
    schema.upgrade(db, old)
    db.dispose()
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", empty_database_url)
    cli = Cli(capsys, monkeypatch)

    code, out, err = cli("staff", "list")
    _one_error_line(code, err, f"the database schema is at {old} but this version needs {newer}")
    assert err.rstrip().endswith("run `clientpay-tui db upgrade`")
    assert out == ""

    code, out, _ = cli("db", "upgrade")
    assert code == 0 and f"upgraded from {old} to {newer}" in out
    assert cli("staff", "list")[0] == 0


def test_commands_create_a_new_database_at_head(capsys, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", url)
    code, out, _ = Cli(capsys, monkeypatch)("staff", "list")
    assert code == 0 and out.startswith("no staff accounts yet")
    db = Database(url)
    assert schema.current_revision(db) == schema.head_revision()
    db.dispose()


# -- staff --------------------------------------------------------------------------------------


def test_staff_add_with_password_stdin(cli, db, settings):
    code, out, err = cli(
        "staff", "add", "Alice", "--role", "STAFF", "--password-stdin", stdin="long enough pw\n"
    )
    assert (code, out, err) == (0, "added alice (staff)\n", "")
    from clientpay_tui.services.context import ServiceContext

    actor = StaffService(ServiceContext(db, settings)).sign_in("alice", "long enough pw")
    assert actor.role == Role.STAFF
    with db.read() as session:
        who = session.scalar(select(AuditEvent.actor).where(AuditEvent.action == "staff.add"))
    assert who.startswith("cli:")


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (
            ["--role", "boss", "--password-stdin"],
            "long enough pw\n",
            "unknown role 'boss': use one of agent, staff, admin",
        ),
        (
            ["--role", "admin", "--password-stdin"],
            "short\n",
            "Password must be at least 8 characters",
        ),
        (["--role", "admin", "--password-stdin"], "", "no password on standard input"),
        (
            ["--role", "admin"],
            "long enough pw\n",
            "no terminal to ask for a password: use --password-stdin",
        ),
    ],
)
def test_staff_add_refusals(cli, args, stdin, expected):
    code, _out, err = cli("staff", "add", "bob", *args, stdin=stdin)
    _one_error_line(code, err, expected)
    assert cli("staff", "list")[1].startswith("no staff accounts yet")


def test_staff_add_duplicate_and_bad_name(cli):
    assert (
        cli("staff", "add", "bob", "--role", "agent", "--password-stdin", stdin="long enough pw\n")[
            0
        ]
        == 0
    )
    code, _out, err = cli(
        "staff", "add", "BOB", "--role", "admin", "--password-stdin", stdin="long enough pw\n"
    )
    _one_error_line(code, err, "staff member bob already exists")
    code, _out, err = cli(
        "staff", "add", "b o b", "--role", "admin", "--password-stdin", stdin="long enough pw\n"
    )
    _one_error_line(code, err, "invalid username 'b o b'")


def test_staff_list_disable_enable_unlock(cli, services, admin, clock):
    for name, role in (("alice", "admin"), ("bob", "agent")):
        cli("staff", "add", name, "--role", role, "--password-stdin", stdin="long enough pw\n")

    code, out, _ = cli("staff", "list")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["username", "role", "state", "last", "sign-in"]
    assert lines[1].split() == ["alice", "admin", "active", "never"]
    assert lines[2].split() == ["bob", "agent", "active", "never"]

    assert cli("staff", "disable", "bob") == (0, "disabled bob\n", "")
    assert cli("staff", "list")[1].splitlines()[2].split()[2] == "disabled"
    assert cli("staff", "enable", "bob") == (0, "enabled bob\n", "")

    for _ in range(5):
        with pytest.raises(Exception):  # noqa: B017 - any refusal; the lock is what counts
            services.staff.sign_in("bob", "wrong password")
    assert cli("staff", "list")[1].splitlines()[2].split()[2] == "locked"
    assert cli("staff", "unlock", "bob") == (0, "unlocked bob\n", "")
    assert cli("staff", "list")[1].splitlines()[2].split()[2] == "active"

    code, _out, err = cli("staff", "disable", "nobody")
    _one_error_line(code, err, "no staff member named 'nobody'")


# -- integrations -------------------------------------------------------------------------------


def test_integration_enable_disable_list(cli, services, admin):
    assert cli("integration", "list") == (0, "connect    disabled\ninvoicing  disabled\n", "")
    assert cli("integration", "enable", "connect") == (0, "connect: enabled\n", "")
    assert cli("integration", "enable", "connect") == (0, "connect: already enabled\n", "")
    assert cli("integration", "list")[1] == "connect    enabled\ninvoicing  disabled\n"
    assert cli("integration", "disable", "connect") == (0, "connect: disabled\n", "")
    assert services.integrations.enabled(admin) == frozenset()

    code, _out, err = cli("integration", "enable", "paypal")
    assert code == 2 and "Invalid value" in err and "Traceback" not in err


# -- seed ---------------------------------------------------------------------------------------


def test_seed_small_counts_twice_adds_up(cli, db):
    code, out, err = cli("seed", "--payers", "30", "--invoices", "120")
    assert code == 0, err
    assert out.startswith(
        "added 30 payers, 2 clients, 12 matters, 120 invoices and 10 associations"
    )
    code, out, err = cli("seed", "--payers", "30", "--invoices", "120", "--seed", "7")
    assert code == 0, err
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Payer)) == 60
        assert session.scalar(select(func.count()).select_from(Invoice)) == 240
        assert session.scalar(select(func.count(func.distinct(Invoice.number_key)))) == 240
    code, _out, err = cli("seed", "--payers", "-1")
    assert code == 2 and "Traceback" not in err


def test_seeded_rows_work_with_the_services(cli, services, admin):
    cli("seed", "--payers", "12", "--invoices", "60")
    first = services.payers.search(admin, "")[0]
    services.payers.update(
        admin,
        first.id,
        1,
        __import__("clientpay_tui.services.payers", fromlist=["PayerForm"]).PayerForm(
            name="Renamed", email=first.email
        ),
    )
    assert [r.name for r in services.payers.search(admin, "renamed")] == ["Renamed"]
    new = services.payers.create(
        admin,
        __import__("clientpay_tui.services.payers", fromlist=["PayerForm"]).PayerForm(
            name="After seed"
        ),
    )
    assert new.id > first.id


# -- settings and unreachable databases ---------------------------------------------------------


def test_unreachable_database_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", UNREACHABLE)
    code, _out, err = Cli(capsys, monkeypatch)("staff", "list")
    _one_error_line(
        code, err, "cannot use the database postgresql+psycopg://clientpay:***@127.0.0.1:9/"
    )
    assert "secret" not in err


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CLIENTPAY_SMTP_PORT": "abc"}, "invalid setting smtp_port (CLIENTPAY_SMTP_PORT)"),
        ({"CLIENTPAY_SMTP_PORT": "70000"}, "invalid setting smtp_port"),
        (
            {"CLIENTPAY_PORTAL_URL": "ftp://x"},
            "invalid setting portal_url (CLIENTPAY_PORTAL_URL): Value error, must start with https://",
        ),
        ({"CLIENTPAY_DATABASE_URL": "mysql://x/y"}, "invalid setting database_url"),
        ({"CLIENTPAY_SMTP_SECURITY": "ssl"}, "invalid setting smtp_security"),
    ],
)
def test_invalid_settings_are_one_line(capsys, monkeypatch, env, expected):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _out, err = Cli(capsys, monkeypatch)("staff", "list")
    _one_error_line(code, err, expected)


def test_config_file_errors(capsys, monkeypatch, tmp_path):
    cli = Cli(capsys, monkeypatch)
    code, _out, err = cli("--config", str(tmp_path / "missing.toml"), "staff", "list")
    _one_error_line(code, err, "config file not found")
    bad = tmp_path / "bad.toml"
    bad.write_text("database_url = \n")
    code, _out, err = cli("--config", str(bad), "staff", "list")
    _one_error_line(code, err, f"cannot read config file {bad}")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('colour = "red"\n')
    code, _out, err = cli("--config", str(unknown), "staff", "list")
    _one_error_line(code, err, "invalid setting colour")


def test_config_file_is_used(capsys, monkeypatch, tmp_path):
    path = tmp_path / "from-config.db"
    config = tmp_path / "config.toml"
    config.write_text(f'database_url = "sqlite:///{path}"\n')
    code, out, _ = Cli(capsys, monkeypatch)("--config", str(config), "db", "upgrade")
    assert code == 0 and str(path) in out and path.exists()


@pytest.mark.parametrize(
    ("args", "where", "expected"),
    [
        (["staff", "add"], "clientpay-tui staff add", "Missing argument 'NAME'."),
        (["--bogus"], "clientpay-tui", "No such option '--bogus'."),
        (["seed", "--payers", "abc"], "clientpay-tui seed", "'abc' is not a valid integer"),
        (["frobnicate"], "clientpay-tui", "No such command 'frobnicate'."),
    ],
)
def test_a_mistyped_command_line_is_one_line_naming_the_help(
    capsys, monkeypatch, args, where, expected
):
    code, out, err = Cli(capsys, monkeypatch)(*args)
    assert (code, out) == (2, "")
    assert err.endswith(f" (see '{where} --help')\n")
    [line] = err.splitlines()
    assert line.startswith(f"{where}: error: ") and expected in line


# -- the installed script, as a user runs it ----------------------------------------------------


def _script(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTPAY_")}
    full_env.update(env)
    return subprocess.run(
        [str(SCRIPT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["staff", "list"], {"CLIENTPAY_DATABASE_URL": UNREACHABLE}, "cannot use the database"),
        (["staff", "list"], {"CLIENTPAY_SMTP_PORT": "abc"}, "invalid setting smtp_port"),
        (["import", "payers", "/no/such/file.csv"], {}, "no such file: /no/such/file.csv"),
        (["staff", "add", "x1", "--role", "boss", "--password-stdin"], {}, "unknown role 'boss'"),
    ],
)
def test_installed_script_errors_without_traceback(tmp_path, args, env, expected):
    env = {"CLIENTPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cp.db'}", **env}
    done = _script(*args, env=env, stdin="long enough pw\n")
    _one_error_line(done.returncode, done.stderr, expected)
    assert done.stdout == ""


def test_installed_script_works(tmp_path):
    env = {"CLIENTPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cp.db'}"}
    done = _script(
        "staff",
        "add",
        "alice",
        "--role",
        "admin",
        "--password-stdin",
        env=env,
        stdin="long enough pw\n",
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "added alice (admin)\n", "")
    assert _script("--help", env=env).stdout.startswith("Usage: clientpay-tui")
    version = _script("--version", env=env)
    assert version.returncode == 0 and "0.1.0" in version.stdout
