"""The command line: db, staff, integration and seed commands, and its one-line errors."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from clientpay_tui.cli import main
from clientpay_tui.config import load_settings
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


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SMTP_TIMEOUT", "inf", "a finite number"),
        ("SMTP_TIMEOUT", "nan", "a finite number"),
        ("SMTP_TIMEOUT", "601", "less than or equal to 600"),
        ("WELCOME_TOKEN_DAYS", "1e9", "less than or equal to 90"),
        ("WELCOME_TOKEN_DAYS", "-inf", "a finite number"),
        ("RESET_TOKEN_HOURS", "1e300", "less than or equal to 72"),
        ("RESEND_CONFIRM_SECONDS", "99999999999", "less than or equal to 86400"),
        ("EMAIL_LIMIT_COUNT", "99999999999", "less than or equal to 1000"),
        ("EMAIL_LIMIT_MINUTES", "99999999999", "less than or equal to 10080"),
        ("LOCKOUT_ATTEMPTS", "99999999999", "less than or equal to 1000"),
        ("LOCKOUT_WINDOW_MINUTES", "99999999999", "less than or equal to 10080"),
        ("LOCKOUT_MINUTES", "99999999999", "less than or equal to 10080"),
        ("LOCKOUT_MINUTES", "0", "greater than or equal to 1"),
        ("IDLE_SIGN_OUT_MINUTES", "1441", "less than or equal to 1440"),
        ("IDLE_SIGN_OUT_MINUTES", "-1", "greater than or equal to 0"),
        ("IDLE_SIGN_OUT_MINUTES", "1.5", "a valid integer, unable to parse string"),
    ],
)
def test_numeric_settings_are_finite_and_bounded(capsys, monkeypatch, name, value, expected):
    monkeypatch.setenv(f"CLIENTPAY_{name}", value)
    code, _out, err = Cli(capsys, monkeypatch)("staff", "list")
    _one_error_line(
        code, err, f"invalid setting {name.lower()} (CLIENTPAY_{name}): Input should be {expected}"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://pay.example.com?x=1", "must not have a query (?…) or fragment (#…)"),
        ("https://pay.example.com/#top", "must not have a query (?…) or fragment (#…)"),
        ("https://pay.example.com/?", "must not have a query (?…) or fragment (#…)"),
        ("http://pay.example.com", "must use https:// (http:// only for localhost"),
        ("http://127.0.0.1.example.com", "must use https://"),
        ("https://", "must name a host"),
        ("https:///welcome", "must name a host"),
        ("https:pay.example.com", "must name a host"),
        ("//pay.example.com", "must start with https:// or http://"),
        ("pay.example.com", "must start with https:// or http://"),
        ("https://user:pw@pay.example.com", "must not hold a user name or password"),
        ("https://pay.example.com:99999", "is not a valid URL"),
        ("https://pay.example.com/a b", "must not contain spaces or control characters"),
        ("https://[::1", "is not a valid URL"),
    ],
)
def test_the_portal_url_must_be_an_absolute_https_url(capsys, monkeypatch, url, expected):
    monkeypatch.setenv("CLIENTPAY_PORTAL_URL", url)
    code, _out, err = Cli(capsys, monkeypatch)("staff", "list")
    _one_error_line(
        code, err, f"invalid setting portal_url (CLIENTPAY_PORTAL_URL): Value error, {expected}"
    )


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("https://pay.example.com/", "https://pay.example.com"),
        ("https://pay.example.com:8443/portal/", "https://pay.example.com:8443/portal"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://127.8.9.10", "http://127.8.9.10"),
        ("http://localhost:8000/", "http://localhost:8000"),
        ("HTTP://LOCALHOST", "HTTP://LOCALHOST"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_portal_urls_that_are_accepted(url, stored):
    assert load_settings(portal_url=url).portal_url == stored


@pytest.mark.parametrize(
    "url",
    [
        "sqlitex:///tmp/x.db",
        "postgresql+asyncpg://db.example/clientpay",
        "postgresql+psycopg2://db.example/clientpay",
        "sqlite+pysqlcipher:///tmp/x.db",
        "mysql://db.example/clientpay",
        "/tmp/clientpay.db",
    ],
)
def test_database_urls_of_other_drivers_are_refused(capsys, monkeypatch, url):
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", url)
    code, _out, err = Cli(capsys, monkeypatch)("staff", "list")
    _one_error_line(
        code,
        err,
        "invalid setting database_url (CLIENTPAY_DATABASE_URL): Value error, must be a "
        "sqlite:///PATH or postgresql+psycopg://… URL",
    )


def test_database_urls_that_are_accepted(tmp_path):
    for url in (
        f"sqlite:///{tmp_path / 'a.db'}",
        f"sqlite+pysqlite:///{tmp_path / 'a.db'}",
        "postgresql://clientpay@db.example/clientpay",
        "postgresql+psycopg://clientpay@db.example/clientpay",
    ):
        assert load_settings(database_url=url).database_url == url


def test_an_sqlite_path_that_cannot_be_a_folder_is_one_line(capsys, monkeypatch, tmp_path):
    existing = tmp_path / "a-file"
    existing.write_text("not a folder")
    cli = Cli(capsys, monkeypatch)
    for path, reason in (
        (existing / "x.db", "Not a directory"),
        (existing / "deeper" / "x.db", "Not a directory"),
        (Path("/proc/no-such-process/x.db"), "No such file or directory"),
    ):
        monkeypatch.setenv("CLIENTPAY_DATABASE_URL", f"sqlite:///{path}")
        code, _out, err = cli("staff", "list")
        _one_error_line(code, err, f"cannot create the folder {path.parent} for the database file")
        assert reason in err or "File exists" in err
    assert existing.read_text() == "not a folder"


@pytest.mark.parametrize(
    "content", [b"name,email\nAda,ada@example.com\n", b"\x00" * 8192], ids=["text", "zeros"]
)
def test_a_file_that_is_not_a_database_is_one_line(capsys, monkeypatch, tmp_path, content):
    path = tmp_path / "payers.csv"
    path.write_bytes(content)
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", f"sqlite:///{path}")
    cli = Cli(capsys, monkeypatch)
    for args in (("staff", "list"), ("db", "upgrade"), ("db", "current")):
        code, _out, err = cli(*args)
        _one_error_line(code, err, f"{path} is not a ClientPay database")
    assert path.read_bytes() == content


def _default_config(tmp_path: Path) -> Path:
    folder = tmp_path / "config" / "clientpay-tui"  # XDG_CONFIG_HOME from isolated_environment
    folder.mkdir(parents=True)
    return folder / "config.toml"


@pytest.mark.parametrize("kind", ["directory", "read error", "fifo", "no permission"])
def test_an_unreadable_default_config_file_is_one_line(capsys, monkeypatch, tmp_path, kind):
    config = _default_config(tmp_path)
    if kind == "directory":
        config.mkdir()
        expected = "not a regular file"
    elif kind == "read error":
        # Unreadable even for root: reading /proc/self/mem at offset 0 fails with EIO.
        config.symlink_to("/proc/self/mem")
        expected = "Input/output error"
    elif kind == "fifo":
        os.mkfifo(config)  # opening it would wait for a writer forever
        expected = "not a regular file"
    else:
        if os.geteuid() == 0:
            pytest.skip("root reads a file whatever its mode (see the 'read error' case)")
        config.write_text('firm_name = "x"\n')
        config.chmod(0)
        expected = "Permission denied"
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", f"sqlite:///{tmp_path / 'cp.db'}")
    code, _out, err = Cli(capsys, monkeypatch)("staff", "list")
    _one_error_line(code, err, f"cannot read config file {config}: {expected}")
    assert not (tmp_path / "cp.db").exists()


def test_upgrading_a_database_newer_than_the_app_is_one_line(capsys, monkeypatch, database_url):
    db = Database(database_url)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    monkeypatch.setenv("CLIENTPAY_DATABASE_URL", database_url)
    cli = Cli(capsys, monkeypatch)
    expected = (
        "the database is at schema 9999_from_the_future, newer than this version of "
        f"clientpay-tui knows ({schema.head_revision()}); upgrade the app"
    )
    for args in (("db", "upgrade"), ("staff", "list")):
        code, out, err = cli(*args)
        _one_error_line(code, err, expected)
        assert out == ""
    assert schema.current_revision(db) == "9999_from_the_future"
    with db.engine.begin() as connection:
        connection.execute(
            text(f"UPDATE alembic_version SET version_num = '{schema.HEAD_REVISION}'")
        )
    db.dispose()


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
        (["staff", "list"], {"CLIENTPAY_DATABASE_URL": "sqlitex:///x.db"}, "database_url"),
        (["staff", "list"], {"CLIENTPAY_SMTP_TIMEOUT": "inf"}, "invalid setting smtp_timeout"),
        (
            ["staff", "list"],
            {"CLIENTPAY_DATABASE_URL": "sqlite:////etc/passwd/x.db"},
            "cannot create the folder /etc/passwd",
        ),
        (["import", "payers", "/no/such/file.csv"], {}, "no such file: /no/such/file.csv"),
        (["staff", "add", "x1", "--role", "boss", "--password-stdin"], {}, "unknown role 'boss'"),
    ],
)
def test_installed_script_errors_without_traceback(tmp_path, args, env, expected):
    env = {"CLIENTPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cp.db'}", **env}
    done = _script(*args, env=env, stdin="long enough pw\n")
    _one_error_line(done.returncode, done.stderr, expected)
    assert done.stdout == ""


@pytest.mark.parametrize("args", [[], ["demo"], ["demo", "--fresh"]])
def test_the_app_refuses_to_start_without_a_terminal(tmp_path, args):
    # It used to start anyway and read end-of-file forever, a core busy and the database open.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENTPAY_", "XDG_DATA"))}
    env.update(
        CLIENTPAY_DATABASE_URL=f"sqlite:///{tmp_path / 'cp.db'}",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    done = subprocess.run(
        [str(SCRIPT), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    _one_error_line(
        done.returncode, done.stderr, "the app needs a terminal and its standard input is not one"
    )
    assert done.stdout == ""
    assert not (tmp_path / "cp.db").exists() and not (tmp_path / "data").exists()


def test_the_app_refuses_to_start_when_its_output_is_not_a_terminal(tmp_path):
    master, slave = pty.openpty()
    try:
        done = subprocess.run(
            [str(SCRIPT)],
            stdin=slave,
            capture_output=True,
            text=True,
            env={**os.environ, "CLIENTPAY_DATABASE_URL": f"sqlite:///{tmp_path / 'cp.db'}"},
            timeout=30,
            check=False,
        )
    finally:
        os.close(slave)
        os.close(master)
    _one_error_line(
        done.returncode, done.stderr, "the app needs a terminal and its standard output is not one"
    )
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


@pytest.mark.parametrize(("given", "expected"), [(None, 120), ("30", 30)])
def test_the_app_draws_up_to_120_frames_a_second_unless_told(given, expected):
    # The default must be in place before Textual reads it (when textual.constants is first
    # imported): the app's command imports Textual only after preparing the terminal.
    probe = (
        "import sys\n"
        "from clientpay_tui.cli import run\n"
        "assert 'textual.constants' not in sys.modules\n"
        "run._prepare_terminal()\n"
        "import textual.constants\n"
        "print(textual.constants.MAX_FPS)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "TEXTUAL_FPS"}
    if given is not None:
        env["TEXTUAL_FPS"] = given
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(expected)
