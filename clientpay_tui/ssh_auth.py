"""The public keys OpenSSH verified for this login, from the file ``ExposeAuthInfo`` writes.

With ``ExposeAuthInfo yes`` sshd writes what the login proved, one method a line (only
methods that succeeded; ``publickey TYPE BASE64`` for a key), to a new ``mkstemp`` file
``/tmp/sshauth.XXXXXXXXXXXXXXX`` created as the user (mode 0600), and names it in
``SSH_USER_AUTH`` — set after, and so over, anything the client or the account's environment
files supplied. The app believes such a file only when it looks exactly like that (see
SECURITY.md for the sshd settings this relies on); anything else means "no key": the normal
password screen. Only the standard library: it runs before Textual starts, while sshd still
has the file (it removes it when the connection closes).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field

from clientpay_tui.errors import ValidationFailed
from clientpay_tui.ssh_keys import parse_public_key

SSHD_TMP = "/tmp"  # noqa: S108 - where sshd writes it: read, and checked, never written
AUTH_FILE = re.compile(r"^/tmp/sshauth\.[A-Za-z0-9]{15}$")
"""The only name sshd gives the file (``session.c``: ``mkstemp("/tmp/sshauth.XXXX…")``)."""
MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class VerifiedKeys:
    """What the login's auth file said: the fingerprints of the keys sshd verified, or why
    the file was not believed (``refused``: one line, for the tests and the audit log)."""

    fingerprints: tuple[str, ...] = ()
    refused: str = ""
    present: bool = field(default=False)
    """``SSH_USER_AUTH`` was set at all."""


def keys_sshd_verified(environ: Mapping[str, str] | None = None) -> VerifiedKeys:
    """The keys sshd verified for this login, read from ``SSH_USER_AUTH``'s file."""
    env = os.environ if environ is None else environ
    path = env.get("SSH_USER_AUTH")
    if not path:
        return VerifiedKeys()
    try:
        text = _read_sshd_file(path, over_ssh=bool(env.get("SSH_CONNECTION")))
    except _NotSshd as why:
        return VerifiedKeys(refused=str(why), present=True)
    return VerifiedKeys(fingerprints=_fingerprints(text), present=True)


class _NotSshd(Exception):
    """The file is not one sshd would have written for this login."""


def _read_sshd_file(path: str, *, over_ssh: bool) -> str:
    if not over_ssh:
        raise _NotSshd("SSH_USER_AUTH is set but SSH_CONNECTION is not")
    if not AUTH_FILE.match(path):
        raise _NotSshd("SSH_USER_AUTH does not name a file sshd writes (/tmp/sshauth.*)")
    tmp = os.stat(SSHD_TMP)
    if tmp.st_uid != 0 or not tmp.st_mode & stat.S_ISVTX:
        raise _NotSshd(f"{SSHD_TMP} is not root's sticky directory")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise _NotSshd(f"cannot open {path}: {error.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _NotSshd(f"{path} is not a regular file")
        if info.st_uid != os.geteuid():
            raise _NotSshd(f"{path} belongs to another user")
        if stat.S_IMODE(info.st_mode) != 0o600:
            raise _NotSshd(f"{path} has mode {stat.S_IMODE(info.st_mode):o}, not 600")
        if info.st_nlink != 1:
            raise _NotSshd(f"{path} has other names (hard links)")
        if info.st_size > MAX_BYTES:
            raise _NotSshd(f"{path} is too large")
        data = os.read(fd, MAX_BYTES + 1)
    finally:
        os.close(fd)
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise _NotSshd(f"{path} is not text") from None


def _fingerprints(text: str) -> tuple[str, ...]:
    """The fingerprints of ``publickey TYPE BASE64`` lines, in order, once each. Other
    methods, certificates (whose lines carry more fields) and malformed lines are skipped."""
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != "publickey":
            continue
        try:
            key = parse_public_key(f"{fields[1]} {fields[2]}")
        except ValidationFailed:
            continue
        if key.fingerprint not in found:
            found.append(key.fingerprint)
    return tuple(found)
