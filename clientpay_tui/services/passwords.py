"""Password hashing (argon2id) and the password policy, for staff and portal logins alike."""

from __future__ import annotations

import contextlib
import gzip
from collections.abc import Iterable
from functools import cache
from importlib import resources

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clientpay_tui.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = "common-passwords.txt.gz"
"""In ``clientpay_tui/data``; its origin and licence are in ``data/NOTICE.md``."""

# argon2-cffi's default profile (RFC 9106 low-memory: t=3, m=64 MiB, p=4) is above OWASP's
# argon2id minimum (m=19 MiB, t=2, p=1). It costs ~150 ms: call it from a worker thread.
DEFAULT_HASHER = PasswordHasher(type=Type.ID)
_hasher = DEFAULT_HASHER


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (tests use cheap parameters). Returns the previous one."""
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


def hash_password(password: str) -> str:
    """The argon2id hash of a password that passed :func:`check_password_policy`."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A missing or malformed hash never matches.

    Every path spends about one hash computation, so that the answer's timing does not say
    whether an account (or its hash) exists.
    """
    if len(password) > MAX_LENGTH:
        # No stored password can be this long (the policy refuses it): spend the same time
        # on a short value rather than hashing megabytes an attacker sent.
        _burn("")
        return False
    if not password_hash or not _encodable(password):
        _burn(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """The hash was made with other parameters than the current hasher's."""
    return _hasher.check_needs_rehash(password_hash)


_DUMMY: dict[int, str] = {}


def _dummy_hash() -> str:
    key = id(_hasher)
    if key not in _DUMMY:
        _DUMMY[key] = _hasher.hash("clientpay dummy password")
    return _DUMMY[key]


def _burn(password: str) -> None:
    # surrogatepass: a hostile string with lone surrogates must cost the same, not raise.
    data = password.encode("utf-8", "surrogatepass") + b"\x00"
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), data)


def _encodable(password: str) -> bool:
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, casefolded."""
    data = resources.files("clientpay_tui").joinpath("data", COMMON_PASSWORDS_FILE).read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip())


def is_common(password: str) -> bool:
    """The password is on the common-passwords list, ignoring case and outer spaces."""
    return password.strip().casefold() in common_passwords()


def check_password_policy(password: str, *, avoid: Iterable[str | None] = ()) -> None:
    """Refuse a password people or programs would guess, with a one-line reason.

    Args:
        password: the new password, exactly as typed (spaces count; nothing is stripped).
        avoid: values the password must not be, such as the account's email address or user
            name; an email's part before the ``@`` is refused too, and so is each of them with
            only digits, spaces or symbols added or changed (the same letters in order).
    """
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"Password must be at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"Password must be at most {MAX_LENGTH} characters.")
    if not password.strip():
        raise ValidationFailed("Password must not be only spaces.")
    if not _encodable(password):
        raise ValidationFailed("Password holds characters that cannot be used; type it again.")
    if is_common(password):
        raise ValidationFailed(
            "This password is among the most common ones and easy to guess; choose another."
        )
    folded = password.strip().casefold()
    letters = _letters(folded)
    for value in avoid:
        if not value:
            continue
        words = {value.strip().casefold(), value.partition("@")[0].strip().casefold()}
        # The name with only digits, spaces or symbols changed or added (Alice2026!) is the
        # first thing a guesser tries after the name itself.
        if folded in words or (letters and letters in {_letters(word) for word in words}):
            raise ValidationFailed("Password must not be your email address or user name.")


def _letters(value: str) -> str:
    return "".join(char for char in value if char.isalpha())
