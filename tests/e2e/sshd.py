"""A private OpenSSH server on a loopback port, set up for a dedicated account as the README's
SSH section says: its home and keys owned by root, its data directory its own, and the
README's own ``Match User … ForceCommand`` block (read from README.md, paths replaced).

Needs root (it creates a local user account) and Debian's ``openssh-server`` and
``openssh-client``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"
PRIVSEP_DIR = Path("/run/sshd")
README = Path(__file__).resolve().parents[2] / "README.md"
README_USER = "clientpay"
README_COMMAND = "/opt/clientpay/.venv/bin/clientpay-tui"
README_CONFIG = "/etc/clientpay/config.toml"
README_DATA = "/var/lib/clientpay"


def why_not_available() -> str | None:
    """Why the test cannot run here, or ``None``."""
    if os.geteuid() != 0:
        return "needs root: it creates a local user account for sshd's ForceCommand"
    for tool in (SSHD, shutil.which("ssh"), shutil.which("ssh-keygen"), shutil.which("useradd")):
        if tool is None or not Path(tool).exists():
            return "needs openssh-server, openssh-client and useradd (apt: .ci/run installs them)"
    return None


def readme_match_block() -> str:
    """The ``sshd_config`` snippet of the README's SSH section, as written there."""
    text = README.read_text(encoding="utf-8")
    found = re.search(
        r"( *)# /etc/ssh/sshd_config\.d/clientpay\.conf\n"
        r"\1(Match User clientpay\n(?:\1    .+\n)+)",
        text,
    )
    assert found, "README.md has no sshd_config snippet with 'Match User clientpay'"
    return textwrap.dedent(found.group(1) + found.group(2))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(*args: str | Path, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(arg) for arg in args]
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


def keygen(path: Path, comment: str) -> str:
    """A new ed25519 key pair; returns the public key's line."""
    done = run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path)
    assert done.returncode == 0, done.stderr
    return path.with_name(path.name + ".pub").read_text().strip()


@dataclass
class SshServer:
    base: Path
    user: str
    port: int
    command: str
    """The app as the account runs it (the ForceCommand's program)."""
    config_file: Path
    database: Path
    known_hosts: Path
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.base / "sshd.log"

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.database}"

    def write_settings(self, **values: object) -> None:
        """The account's config file (owned by root, readable by the account)."""
        lines = [f'database_url = "{self.database_url}"']
        for name, value in values.items():
            rendered = str(value).lower() if isinstance(value, bool) else repr(value)
            lines.append(f"{name} = {rendered}")
        self.config_file.write_text("\n".join(lines) + "\n")
        self.config_file.chmod(0o644)

    def ssh(self, key: Path, *options: str) -> list[str]:
        """The ``ssh`` command line of a staff member holding ``key``."""
        return [
            "ssh",
            "-F",
            "/dev/null",
            "-p",
            str(self.port),
            "-i",
            str(key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            *options,
            f"{self.user}@127.0.0.1",
        ]

    def processes(self) -> list[str]:
        """The account's processes (the app, its shell, sshd's per-connection child)."""
        listed = run("pgrep", "-a", "-u", self.user)
        return listed.stdout.splitlines()

    def wait_no_processes(self, seconds: float = 15.0) -> None:
        deadline = time.monotonic() + seconds
        while self.processes():
            assert time.monotonic() < deadline, f"still running: {self.processes()}"
            time.sleep(0.05)

    def start(self, authorized: list[str]) -> None:
        home = self.base / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o755)
        home.chmod(0o755)
        keys = home / ".ssh" / "authorized_keys"
        keys.write_text("\n".join(authorized) + "\n")
        keys.chmod(0o644)
        host_key = self.base / "host_key"
        host_public = keygen(host_key, "e2e-host")
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_public}\n")
        block = (
            readme_match_block()
            .replace(f"Match User {README_USER}", f"Match User {self.user}")
            .replace(README_COMMAND, self.command)
            .replace(README_CONFIG, str(self.config_file))
            .replace(README_DATA, str(self.database.parent))
        )
        config = self.base / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile none\n"
            f"UsePAM no\nStrictModes yes\nPasswordAuthentication no\n"
            f"KbdInteractiveAuthentication no\nAllowUsers {self.user}\nLogLevel VERBOSE\n"
            f"{block}"
        )
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)  # Debian's unit creates it; we have none
        checked = run(SSHD, "-t", "-f", config)
        assert checked.returncode == 0, checked.stderr
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                assert self.process.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, "sshd did not listen"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def create_account(base: Path) -> str:
    """A dedicated local account as the README creates it (home owned by root)."""
    user = f"cpe2e{secrets.token_hex(3)}"
    done = run(
        "useradd",
        "--system",
        "--shell",
        "/bin/sh",
        "--home-dir",
        base / "home",
        "--no-create-home",
        "--password",
        "*",  # not "!": with UsePAM no, sshd reads "!" as a locked account
        user,
    )
    assert done.returncode == 0, done.stderr
    return user


def app_command(base: Path, user: str) -> str:
    """``clientpay-tui`` of the environment running the tests, as ``user`` can run it.

    The tests' virtual environment may be built on an interpreter the account cannot reach
    (pyenv under root's 0700 home); then a small environment on the system's Python of the
    same version adds the tests' site-packages (the editable install included).
    """
    script = Path(sys.executable).with_name("clientpay-tui")
    if run(script, "--version", user=user).returncode == 0:
        return str(script)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system_python = Path("/usr/bin") / version
    assert system_python.exists(), f"{user} cannot run {script} and there is no {system_python}"
    venv = base / "venv"
    made = run(system_python, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    site_packages = next((venv / "lib").glob("python3*/site-packages"))
    ours = sysconfig.get_paths()["purelib"]
    (site_packages / "clientpay-e2e.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    wrapper = venv / "bin" / "clientpay-tui"
    wrapper.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom clientpay_tui.cli import main\n"
        "sys.exit(main())\n"
    )
    wrapper.chmod(0o755)
    checked = run(wrapper, "--version", user=user)
    assert checked.returncode == 0, checked.stderr
    return str(wrapper)


def make_server() -> SshServer:
    base = Path(tempfile.mkdtemp(prefix="clientpay-ssh-"))
    base.chmod(0o755)  # the account must reach its home, settings and data below it
    user = create_account(base)
    data = base / "data"
    data.mkdir(mode=0o700)
    owner = pwd.getpwnam(user)
    os.chown(data, owner.pw_uid, owner.pw_gid)
    return SshServer(
        base=base,
        user=user,
        port=free_port(),
        command=app_command(base, user),
        config_file=base / "config.toml",
        database=data / "clientpay.db",
        known_hosts=base / "known_hosts",
    )


def remove_server(server: SshServer) -> None:
    server.stop()
    for line in server.processes():  # a failed test's leftovers, by their ids
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    run("userdel", server.user)
    shutil.rmtree(server.base, ignore_errors=True)
