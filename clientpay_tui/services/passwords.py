"""Password hashing (argon2id) and the password policy, for staff and portal logins alike."""

from __future__ import annotations

import contextlib

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clientpay_tui.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 128

# argon2-cffi's default profile (RFC 9106 low-memory: t=3, m=64 MiB, p=4) is above OWASP's
# argon2id minimum (m=19 MiB, t=2, p=1). It costs ~150 ms: call it from a worker thread.
_hasher = PasswordHasher(type=Type.ID)


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Replace the hasher (tests use cheap parameters). Returns the previous one."""
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches. A missing or malformed hash never matches."""
    if not password_hash:
        # Spend the same time as a real check so that timing reveals nothing.
        _burn(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


_DUMMY: dict[int, str] = {}


def _dummy_hash() -> str:
    key = id(_hasher)
    if key not in _DUMMY:
        _DUMMY[key] = _hasher.hash("clientpay dummy password")
    return _DUMMY[key]


def _burn(password: str) -> None:
    with contextlib.suppress(VerificationError):
        _hasher.verify(_dummy_hash(), password + "\x00")


def check_password_policy(password: str) -> None:
    """Refuse a password that is too short or too long, with a one-line reason."""
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"Password must be at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise ValidationFailed(f"Password must be at most {MAX_LENGTH} characters.")
    if not password.strip():
        raise ValidationFailed("Password must not be only spaces.")
