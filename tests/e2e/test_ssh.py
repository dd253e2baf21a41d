"""End to end through a real OpenSSH server: ``ssh -tt`` in a pseudo-terminal to a dedicated
account whose ``ForceCommand`` is the app, configured as the README says. SQLite only (the
account's own database file); the services below it run on both backends elsewhere.

Prints what it measured (ssh start to payer list, escape latency) as JSON lines.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import AuditEvent, Role
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.ssh_keys import parse_public_key
from tests.e2e import sshd
from tests.e2e.terminal import PASSWORD, Terminal

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sshd.why_not_available() is not None, reason=str(sshd.why_not_available())),
]


class Keys:
    def __init__(self, folder: Path) -> None:
        self.linked = folder / "sam_ed25519"
        self.unknown = folder / "stranger_ed25519"
        self.linked_line = sshd.keygen(self.linked, "sam@laptop")
        self.unknown_line = sshd.keygen(self.unknown, "stranger@elsewhere")

    @property
    def fingerprint(self) -> str:
        return parse_public_key(self.linked_line).fingerprint


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sshd.SshServer, Keys]]:
    """sshd, the account, and a database with sam (whose key is linked) and two payers."""
    server = sshd.make_server()
    try:
        keys = Keys(tmp_path_factory.mktemp("client"))
        settings = load_settings(database_url=server.database_url, ssh_key_sign_in=True)
        db = Database(server.database_url)
        schema.upgrade(db)
        services = Services(db, settings)
        admin = command_line_actor("e2e")
        services.staff.add(admin, "sam", Role.STAFF, PASSWORD)
        services.staff_keys.add(admin, "sam", keys.linked_line)
        services.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
        services.payers.create(admin, PayerForm(name="Barbara Liskov", email="b@example.com"))
        db.dispose()
        owner = pwd.getpwnam(server.user)
        for path in server.database.parent.iterdir():  # the account's own files from now on
            os.chown(path, owner.pw_uid, owner.pw_gid)
        server.write_settings(firm_name="SSH & Partners", ssh_key_sign_in=True)
        server.start([keys.linked_line, keys.unknown_line])
        yield server, keys
    finally:
        sshd.remove_server(server)


def client_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLIENTPAY_", "SSH_"))}
    env["TERM"] = "xterm-256color"
    return env


def sign_ins(server: sshd.SshServer) -> list[str]:
    db = Database(server.database_url)
    try:
        with db.read() as session:
            return list(
                session.scalars(
                    select(AuditEvent.summary)
                    .where(AuditEvent.actor == "sam", AuditEvent.action.like("staff.sign_%"))
                    .order_by(AuditEvent.id)
                )
            )
    finally:
        db.dispose()


def integrity(server: sshd.SshServer) -> str:
    db = Database(server.database_url)
    try:
        with db.engine.connect() as connection:
            return str(connection.execute(text("PRAGMA integrity_check")).scalar())
    finally:
        db.dispose()


def figure(name: str, seconds: float) -> None:
    print(json.dumps({"measure": name, "ms": round(seconds * 1000)}))


def test_a_linked_key_lands_on_the_list_and_escape_and_arrows_behave(server, tmp_path):
    ssh, keys = server
    before = len(sign_ins(ssh))
    start = time.monotonic()
    terminal = Terminal(ssh.ssh(keys.linked, "-tt"), client_environment(), tmp_path)
    try:
        screen = terminal.wait_for("2 payers", seconds=30)
        figure("ssh start to payer list (key sign-in)", time.monotonic() - start)
        assert "sam (staff)" in screen
        assert "Password" not in screen
        assert sign_ins(ssh)[before:] == [f"Signed in by SSH key {keys.fingerprint}"]
        terminal.press("e")  # the export lands in the account's data directory, not its home
        terminal.wait_for("Access review of 2 payers saved to", seconds=15)
        assert list((ssh.database.parent / "clientpay-tui" / "exports").glob("*.csv"))

        # An arrow key arrives as one key, not as Escape and letters: down, then enter opens
        # the second payer.
        terminal.press("\x1b[B", pause=0.3)
        terminal.press("enter")
        terminal.wait_for("Login Access")
        assert "Barbara Liskov" in terminal.text()
        escape = time.monotonic()
        terminal.child.send("\x1b")
        terminal.wait_for("2 payers", seconds=5)
        latency = time.monotonic() - escape
        figure("escape to payer list over ssh", latency)
        # ESCDELAY 300 ms, a frame and the loopback round trip; seconds only on a loaded machine.
        assert latency < 3.0
        terminal.press("ctrl+q")
        assert terminal.wait_exit(15) == 0
    finally:
        if terminal.child.isalive():
            terminal.child.terminate(force=True)
    ssh.wait_no_processes()


def test_an_unknown_key_gets_the_password_screen_and_killing_the_client_ends_the_app(
    server, tmp_path
):
    ssh, keys = server
    # The stranger also asks sshd to point SSH_USER_AUTH at a forged file that names sam's key,
    # owned by the account and mode 600 as sshd's own: sshd passes no such variable (no
    # AcceptEnv) and sets its own over it anyway (ExposeAuthInfo).
    forged_name = Path("/tmp") / ("sshauth." + secrets.token_hex(8)[:15])
    os.close(os.open(forged_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    forged_name.write_text(f"publickey {keys.linked_line.rsplit(' ', 1)[0]}\n")
    owner = pwd.getpwnam(ssh.user)
    os.chown(forged_name, owner.pw_uid, owner.pw_gid)
    command = ssh.ssh(keys.unknown, "-tt", "-o", f"SetEnv=SSH_USER_AUTH={forged_name}")
    terminal = Terminal(command, client_environment(), tmp_path)
    try:
        terminal.wait_for("does not sign you in here", seconds=30)
        terminal.press("sam", "enter", PASSWORD, "enter")
        terminal.wait_for("2 payers", seconds=15)
        assert sign_ins(ssh)[-1] == "Signed in"
        assert any("clientpay-tui" in line for line in ssh.processes())
        terminal.child.kill(signal.SIGKILL)  # the client dies: no goodbye to the server
        terminal.child.wait()
    finally:
        if terminal.child.isalive():
            terminal.child.terminate(force=True)
        forged_name.unlink(missing_ok=True)
    ssh.wait_no_processes(seconds=20)
    assert integrity(ssh) == "ok"


def test_ssh_without_a_terminal_gets_one_line_and_leaves_nothing(server):
    ssh, keys = server
    done = subprocess.run(
        ssh.ssh(keys.linked, "-T"),
        capture_output=True,
        text=True,
        timeout=60,
        env=client_environment(),
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 1
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("clientpay-tui: error: the app needs a terminal")
    ssh.wait_no_processes()


def test_leaving_a_key_session_idle_ends_it(server, tmp_path):
    ssh, keys = server
    ssh.write_settings(firm_name="SSH & Partners", ssh_key_sign_in=True, idle_sign_out_minutes=1)
    terminal = Terminal(ssh.ssh(keys.linked, "-tt"), client_environment(), tmp_path)
    try:
        terminal.wait_for("2 payers", seconds=30)
        idle_from = time.monotonic()
        status = terminal.wait_exit(60 + 15 + 30)  # a minute, the 6 s look, and a loaded machine
        figure(
            "idle sign-out after 1 minute ended the ssh session after", time.monotonic() - idle_from
        )
        assert status == 0
        assert "The SSH session ended." in " ".join(
            terminal.output.decode(errors="replace").split()
        )
    finally:
        if terminal.child.isalive():
            terminal.child.terminate(force=True)
        ssh.write_settings(firm_name="SSH & Partners", ssh_key_sign_in=True)
    assert sign_ins(ssh)[-1] == "Signed out after 1 minutes idle; the SSH session ended"
    ssh.wait_no_processes()
