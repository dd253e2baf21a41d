"""Single-use access tokens for welcome and reset links.

The raw token (256 bits from :mod:`secrets`) only ever exists in the email; the database keeps
its SHA-256. Issuing a token revokes the login's older unused tokens of the same purpose.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from clientpay_tui.db.models import AccessToken, PortalLogin, TokenPurpose

TOKEN_BYTES = 32


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


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
