"""Single-use access tokens for welcome and reset links.

The raw token (256 bits from :mod:`secrets`) only ever exists in the email; the database keeps
its SHA-256. Issuing a token revokes the login's older unused tokens of the same purpose.

A presented token is looked up by its SHA-256. The lookup's own timing says nothing useful: an
attacker chooses the token, not its hash, so learning how many leading bytes of a hash matched
brings them no closer to a valid token. The final comparison is constant-time all the same.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clientpay_tui.db.models import AccessToken, PortalLogin, TokenPurpose

TOKEN_BYTES = 32
TOKEN_LENGTH = 43
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
"""What :func:`secrets.token_urlsafe` makes of 32 bytes: anything else was never issued."""


class TokenProblem(enum.StrEnum):
    """Why a presented token was refused (for the audit log, never for the link's holder)."""

    MALFORMED = "not a token"
    UNKNOWN = "unknown or altered"
    WRONG_PURPOSE = "meant for the other form"
    USED = "already used"
    REVOKED = "replaced by a newer link or revoked"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of :func:`check`: the token row when one was found, and any problem."""

    token: AccessToken | None
    problem: TokenProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def hash_token(raw: str) -> str:
    """The SHA-256 (hex) stored for a raw token. Never raises, whatever the string holds."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def revoke(
    session: Session, login_id: int, now: datetime, purpose: TokenPurpose | None = None
) -> int:
    """Revoke the login's unused tokens (of one purpose, or all). Returns how many."""
    statement = (
        update(AccessToken)
        .where(
            AccessToken.login_id == login_id,
            AccessToken.used_at.is_(None),
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    if purpose is not None:
        statement = statement.where(AccessToken.purpose == purpose)
    return session.execute(statement).rowcount  # type: ignore[attr-defined]


def issue(
    session: Session, login: PortalLogin, purpose: TokenPurpose, now: datetime, valid_for: timedelta
) -> tuple[str, datetime]:
    """Create a token for ``login``; returns the raw token (for the link) and its expiry."""
    revoke(session, login.id, now, purpose)
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + valid_for
    session.add(
        AccessToken(
            login_id=login.id,
            purpose=purpose,
            token_hash=hash_token(raw),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return raw, expires_at


def check(session: Session, raw: str, purpose: TokenPurpose, now: datetime) -> TokenCheck:
    """Find the token ``raw`` and say whether it may be used for ``purpose`` at ``now``.

    A token is valid strictly before its ``expires_at``. The row is locked (PostgreSQL) so that
    two uses of one link cannot both pass; :func:`consume` re-checks atomically anyway.
    """
    if len(raw) != TOKEN_LENGTH or not _TOKEN_SHAPE.fullmatch(raw):
        return TokenCheck(None, TokenProblem.MALFORMED)
    return check_digest(session, hash_token(raw), purpose, now)


def check_digest(session: Session, digest: str, purpose: TokenPurpose, now: datetime) -> TokenCheck:
    """:func:`check` for a token known by its SHA-256 (the web portal's session keeps only
    that once it has exchanged a link)."""
    token = session.scalars(
        select(AccessToken).where(AccessToken.token_hash == digest).with_for_update()
    ).first()
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return TokenCheck(None, TokenProblem.UNKNOWN)
    if token.purpose != purpose:
        problem: TokenProblem | None = TokenProblem.WRONG_PURPOSE
    elif token.used_at is not None:
        problem = TokenProblem.USED
    elif token.revoked_at is not None:
        problem = TokenProblem.REVOKED
    elif now >= token.expires_at:
        problem = TokenProblem.EXPIRED
    else:
        problem = None
    return TokenCheck(token, problem)


def consume(session: Session, token: AccessToken, now: datetime) -> bool:
    """Mark a checked token used. False when another transaction used or revoked it first."""
    result = session.execute(
        update(AccessToken)
        .where(
            AccessToken.id == token.id,
            AccessToken.used_at.is_(None),
            AccessToken.revoked_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.expire(token, ["used_at"])
    return True
