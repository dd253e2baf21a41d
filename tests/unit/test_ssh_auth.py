"""The keys sshd verified: believed only from a file that looks exactly like sshd's."""

from __future__ import annotations

import os
import secrets
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from clientpay_tui.ssh_auth import keys_sshd_verified
from clientpay_tui.ssh_keys import parse_public_key
from tests.unit.test_ssh_keys import GOOD, _blob

OTHER = _blob(b"ssh-ed25519", b"\x01" * 32)
CONNECTION = "127.0.0.1 50000 127.0.0.1 22"


def _name() -> str:
    alphabet = string.ascii_letters + string.digits
    return "/tmp/sshauth." + "".join(secrets.choice(alphabet) for _ in range(15))


@pytest.fixture
def auth_file() -> Iterator[Path]:
    """A file named, owned and protected as sshd makes it (mkstemp in /tmp, mode 600)."""
    path = Path(_name())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    yield path
    path.unlink(missing_ok=True)


def env(path: Path | str) -> dict[str, str]:
    return {"SSH_USER_AUTH": str(path), "SSH_CONNECTION": CONNECTION}


def test_the_keys_of_an_sshd_file_in_order_once_each(auth_file):
    auth_file.write_text(
        f"password\npublickey ssh-ed25519 {GOOD}\nkeyboard-interactive pam\n"
        f"publickey ssh-ed25519 {OTHER}\npublickey ssh-ed25519 {GOOD}\n"
        f"publickey ssh-ed25519-cert-v01@openssh.com ID x (serial 1) CA ssh-ed25519 y\n"
        f"publickey ssh-ed25519 {GOOD[:-4]}\n"
    )
    found = keys_sshd_verified(env(auth_file))
    assert found.refused == ""
    assert found.fingerprints == (
        parse_public_key(f"ssh-ed25519 {GOOD}").fingerprint,
        parse_public_key(f"ssh-ed25519 {OTHER}").fingerprint,
    )


def test_no_variable_no_keys():
    assert keys_sshd_verified({"SSH_CONNECTION": CONNECTION}).fingerprints == ()
    assert not keys_sshd_verified({}).present


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("no-connection", "SSH_CONNECTION is not"),
        ("other-name", "does not name a file sshd writes"),
        ("mode-644", "has mode 644, not 600"),
        ("symlink", "cannot open"),
        ("hard-link", "has other names"),
        ("directory", "not a regular file"),
        ("missing", "cannot open"),
        ("other-owner", "belongs to another user"),
    ],
)
def test_files_sshd_would_not_write_are_not_believed(auth_file, tmp_path, change, reason):
    auth_file.write_text(f"publickey ssh-ed25519 {GOOD}\n")
    variables = env(auth_file)
    made: list[Path] = []
    if change == "no-connection":
        del variables["SSH_CONNECTION"]
    elif change == "other-name":
        copy = tmp_path / "sshauth.AAAAAAAAAAAAAAA"
        copy.write_text(auth_file.read_text())
        copy.chmod(0o600)
        variables["SSH_USER_AUTH"] = str(copy)
    elif change == "mode-644":
        auth_file.chmod(0o644)
    elif change in ("symlink", "hard-link", "directory", "missing"):
        other = Path(_name())
        made.append(other)
        if change == "symlink":
            other.symlink_to(auth_file)
        elif change == "hard-link":
            os.link(auth_file, other)
        elif change == "directory":
            other.mkdir(mode=0o700)
        variables["SSH_USER_AUTH"] = str(other)
    elif change == "other-owner":
        if os.geteuid() != 0:
            pytest.skip("only root can give a file to another user")
        os.chown(auth_file, 65534, 65534)
    try:
        found = keys_sshd_verified(variables)
    finally:
        for path in made:
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
    assert found.fingerprints == ()
    assert found.present
    assert reason in found.refused
