"""OpenSSH public keys: parsing, checks and fingerprints, against the real ssh-keygen."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.ssh_keys import fingerprint_of, is_fingerprint, parse_public_key

SSH_KEYGEN = shutil.which("ssh-keygen")
needs_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="ssh-keygen is not installed")


def generate(tmp_path: Path, key_type: str, bits: int | None = None) -> tuple[str, str]:
    """A new key's .pub line and the fingerprint ssh-keygen prints for it."""
    assert SSH_KEYGEN is not None
    path = tmp_path / f"id_{key_type}_{bits}"
    args = [SSH_KEYGEN, "-q", "-t", key_type, "-N", "", "-C", "sam@laptop", "-f", str(path)]
    if bits:
        args += ["-b", str(bits)]
    subprocess.run(args, check=True)
    listed = subprocess.run(
        [SSH_KEYGEN, "-l", "-E", "sha256", "-f", f"{path}.pub"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return path.with_suffix(".pub").read_text().strip(), listed[1]


@needs_keygen
@pytest.mark.parametrize(
    ("key_type", "bits"), [("ed25519", None), ("ecdsa", 256), ("ecdsa", 521), ("rsa", 3072)]
)
def test_the_fingerprint_is_ssh_keygens(tmp_path, key_type, bits):
    line, expected = generate(tmp_path, key_type, bits)
    key = parse_public_key(line)
    assert key.fingerprint == expected
    assert is_fingerprint(expected)
    assert key.comment == "sam@laptop"
    assert f"{key.key_type} {key.base64}" == line.rsplit(" ", 1)[0]


@needs_keygen
def test_a_short_rsa_key_is_refused(tmp_path):
    line, _ = generate(tmp_path, "rsa", 1024)
    with pytest.raises(ValidationFailed, match="the RSA key has 1024 bits: at least 2048"):
        parse_public_key(line)


def _blob(*parts: bytes) -> str:
    return base64.b64encode(b"".join(len(p).to_bytes(4, "big") + p for p in parts)).decode()


GOOD = _blob(b"ssh-ed25519", bytes(32))


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "no public key given"),
        ("hello world", "not an OpenSSH public key: it starts with 'hello'"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "not an OpenSSH public key"),
        ("ssh-ed25519", "has no key data"),
        ("ssh-ed25519 not*base64", "not valid base64"),
        (f"ssh-rsa {GOOD}", r"not a ssh-rsa key \(its type differs\)"),
        (f"ssh-ed25519 {_blob(b'ssh-ed25519', bytes(31))}", "not 32 bytes"),
        (f"ssh-ed25519 {GOOD[:-8]}", "malformed"),
        (f"ssh-ed25519 {_blob(b'ssh-ed25519', bytes(32), b'x')}", "extra bytes"),
        (f"ssh-dss {GOOD}", "DSA keys are refused"),
        ("ssh-ed25519-cert-v01@openssh.com AAAA", "SSH certificate"),
        (
            f"ecdsa-sha2-nistp256 {_blob(b'ecdsa-sha2-nistp256', b'nistp384', bytes(65))}",
            "names another curve",
        ),
    ],
)
def test_malformed_keys_are_refused_in_one_line(line, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        parse_public_key(line)
    assert "\n" not in str(refused.value)


def test_comments_are_printable_and_bounded():
    key = parse_public_key(f"ssh-ed25519 {GOOD} \x1b[31mred\x07 " + "x" * 300)
    assert key.comment.startswith("?[31mred? ")
    assert len(key.comment) == 200
    assert key.fingerprint == fingerprint_of(base64.b64decode(GOOD))
    assert not key.fingerprint.endswith("=")
