"""Start-up in a real pseudo-terminal: the sign-in screen paints before the database opens, so
what goes wrong while opening it ends the app with one line after the terminal is restored."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from tests.e2e.terminal import Terminal, environment, installed_command

MOUSE_ON = b"\x1b[?1000h"
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
ESCAPE_SEQUENCE = re.compile(rb"\x1b\[[0-9;?<>=$]*[A-Za-z~]")


def run_until_exit(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str, bytes]:
    """Start ``clientpay-tui``; return its exit status, what it wrote after leaving the
    app's (alternate) screen as plain text, and every byte it wrote."""
    terminal = Terminal([installed_command(), *args], env, cwd)
    try:
        code = terminal.wait_exit(20)
    finally:
        if terminal.child.isalive():
            terminal.child.terminate(force=True)
    output = bytes(terminal.output)
    assert LEAVE_ALTERNATE_SCREEN in output, "the terminal was not restored"
    after = output.rsplit(LEAVE_ALTERNATE_SCREEN, 1)[1]
    return code, ESCAPE_SEQUENCE.sub(b"", after).decode(), output


def one_error_line(after: str, output: bytes, expected: str) -> None:
    """What is left on the terminal is one line: the error."""
    assert after.endswith("\r\n") and after.count("\n") == 1, after
    assert after.startswith("clientpay-tui: error: ") and expected in after, after
    assert b"Traceback" not in output


@pytest.mark.slow
def test_a_database_without_staff_ends_with_one_line(tmp_path: Path) -> None:
    env = environment(tmp_path, database_url=f"sqlite:///{tmp_path / 'new.db'}")
    code, last, output = run_until_exit(env, tmp_path)
    assert code == 1
    one_error_line(last, output, "no staff accounts yet: create one with `clientpay-tui staff")
    assert b"Sign in to" in output  # the first frame came before the database was open


@pytest.mark.slow
def test_a_database_from_a_newer_version_ends_with_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    db = Database(url)
    schema.upgrade(db)
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_later'"))
    db.dispose()
    code, last, output = run_until_exit(environment(tmp_path, database_url=url), tmp_path)
    assert code == 1
    one_error_line(last, output, "the database is at schema 9999_later, newer than this")


@pytest.mark.slow
def test_an_unreachable_database_ends_with_one_line(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"
    code, last, output = run_until_exit(environment(tmp_path, database_url=url), tmp_path)
    assert code == 1
    one_error_line(last, output, "127.0.0.1")


@pytest.mark.slow
def test_an_invalid_setting_ends_with_one_line(tmp_path: Path, firm_database: str) -> None:
    env = environment(tmp_path, database_url=firm_database, portal_url="ftp://portal.test")
    code, last, output = run_until_exit(env, tmp_path)
    assert code == 1
    one_error_line(last, output, "invalid setting portal_url (CLIENTPAY_PORTAL_URL)")


@pytest.mark.slow
def test_mouse_setting_and_firm_name_from_the_config_file(tmp_path: Path, firm_database: str):
    config = tmp_path / "firm.toml"
    config.write_text('firm_name = "File & Sons"\nmouse = false\n', encoding="utf-8")
    env = environment(tmp_path, database_url=firm_database)
    for args, mouse in (((), True), (("--config", str(config)), False)):
        terminal = Terminal([installed_command(), *args], env, tmp_path)
        try:
            terminal.wait_for("File & Sons" if not mouse else "Sign in to Your firm")
            terminal.press("ctrl+q")
            assert terminal.wait_exit() == 0
        finally:
            if terminal.child.isalive():
                terminal.child.terminate(force=True)
        assert (MOUSE_ON in terminal.output) is mouse


def test_the_first_frame_needs_neither_the_database_nor_pydantic() -> None:
    """What ``clientpay-tui`` imports before its sign-in screen paints: not SQLAlchemy,
    pydantic, Alembic, the mail libraries or argon2 (they load behind that frame)."""
    heavy = ["sqlalchemy", "pydantic", "pydantic_settings", "alembic", "aiosmtplib", "argon2"]
    heavy += ["jinja2", "psycopg", "clientpay_tui.services", "clientpay_tui.db"]
    code = (
        "import sys\n"
        "import clientpay_tui.cli, clientpay_tui.cli.run, clientpay_tui.app\n"
        "import clientpay_tui.screens.sign_in\n"
        f"print(sorted({{m.split('.')[0] if not m.startswith('clientpay_tui') else m for m in"
        f" sys.modules}} & set({heavy!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_opening_loads_only_what_a_sign_in_needs(tmp_path: Path) -> None:
    """What opening the database loads sits under argon2's 64 MiB at the password check
    (peak memory, SPEC 7): the payer list's, payments', imports' and reports' services are
    built when first used, each once."""
    later = ["payers", "access", "access_review", "bulk_access", "associations", "preview"]
    later += ["integrations", "imports", "outbox", "payments.paying", "payments.wallets"]
    modules = [f"clientpay_tui.services.{name}" for name in later]
    code = (
        "import sys\n"
        "from clientpay_tui.cli.run import open_configured\n"
        "opened = open_configured(None)\n"
        f"print(sorted(set(sys.modules) & set({modules!r})))\n"
        "services = opened.services\n"
        "assert services.payers is services.payers and services.payers.access is services.access\n"
        f"print(sorted(set(sys.modules) & set({modules!r})) == sorted({modules[:1]!r} + "
        "['clientpay_tui.services.access']))\n"
    )
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    db = Database(url)
    schema.upgrade(db)
    db.dispose()
    env = {**environment(tmp_path, database_url=url)}
    subprocess.run(
        [installed_command(), "staff", "add", "lead", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]
