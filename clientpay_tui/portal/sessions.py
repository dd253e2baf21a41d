"""The portal's browser sessions, held in the database so that any portal process can serve
any request and a session can be ended at once (password change, reset, login deleted).

The browser holds 256 random bits; the table keys the session by their SHA-256, so reading the
table does not let anyone take a session over. A session expires after
:data:`IDLE_MINUTES` without a request and :data:`ABSOLUTE_HOURS` after it was issued; every
sign-in issues a new id (the old row is deleted), so a session id planted before sign-in is
worthless after it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Payer, PortalLogin, PortalSession, TokenPurpose, WebStage
from clientpay_tui.portal.common import PortalIdentity, PortalPart, identity_from, identity_of

IDLE_MINUTES = 30
ABSOLUTE_HOURS = 12
TOUCH_SECONDS = 60
"""``last_seen_at`` is written at most this often (a write per request would serialise every
page view on SQLite); the idle limit is therefore exact to within this."""


def digest(raw: str) -> str:
    """The stored id of a cookie value (SHA-256, hex)."""
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class WebSession:
    """One browser session as a request sees it."""

    id: str
    """SHA-256 of the cookie value, never the value itself."""
    stage: WebStage
    login_id: int | None
    csrf_secret: str
    link_token_hash: str | None
    link_purpose: TokenPurpose | None
    created_at: datetime
    identity: PortalIdentity | None = None
    """Who is signed in, read with the session by :meth:`PortalSessions.load` (``None`` for
    other stages, for a session started in this request, or once the login is gone)."""

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(
            self.csrf_secret.encode(), (presented or "").encode("utf-8", "surrogatepass")
        )


def expired(last_seen_at: datetime, created_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= timedelta(minutes=IDLE_MINUTES) or (
        now - created_at >= timedelta(hours=ABSOLUTE_HOURS)
    )


def _view(row: Any, identity: PortalIdentity | None = None) -> WebSession:
    """A :class:`PortalSession` (or a row of :data:`_SESSION_WITH_IDENTITY`, which has the same
    columns) as a request sees it."""
    return WebSession(
        id=row.id,
        stage=row.stage,
        login_id=row.login_id,
        csrf_secret=row.csrf_secret,
        link_token_hash=row.link_token_hash,
        link_purpose=row.link_purpose,
        created_at=row.created_at,
        identity=identity,
    )


_SESSION_WITH_IDENTITY = (
    select(
        PortalSession.id,
        PortalSession.stage,
        PortalSession.login_id,
        PortalSession.csrf_secret,
        PortalSession.link_token_hash,
        PortalSession.link_purpose,
        PortalSession.created_at,
        PortalSession.last_seen_at,
        PortalLogin.email_key,
        Payer.id.label("payer_id"),
        Payer.email,
        Payer.name,
    )
    .outerjoin(PortalLogin, PortalLogin.id == PortalSession.login_id)
    .outerjoin(Payer, Payer.login_id == PortalLogin.id)
    .where(PortalSession.id == bindparam("key"))
    .order_by(Payer.id)
)
"""A session row with its login and the login's payer records, oldest first (one row per
record; one row with no login or no records). Built once: every request runs it."""


class PortalSessions(PortalPart):
    def load(self, raw: str | None) -> WebSession | None:
        """The live session of a cookie value; ``None`` (and the row gone) once expired.

        A signed-in session comes with its :attr:`~WebSession.identity`, read in the same
        statement: every page of a signed-in payer needs both.
        """
        if not raw or len(raw) > 100:
            return None
        now = self.ctx.clock()
        key = digest(raw)
        with self.ctx.db.read(each_statement=True) as session:
            rows = session.execute(_SESSION_WITH_IDENTITY, {"key": key}).all()
        if not rows:
            return None
        first = rows[0]
        identity = None
        if first.stage == WebStage.SIGNED_IN and first.email_key is not None:
            records = [(row.payer_id, row.email, row.name) for row in rows if row.payer_id]
            identity = identity_from(first.login_id, first.email_key, records)
        view = _view(first, identity)
        stale = expired(first.last_seen_at, first.created_at, now)
        if not stale and (now - first.last_seen_at).total_seconds() < TOUCH_SECONDS:
            return view
        with self.ctx.db.write() as session:
            row = session.get(PortalSession, key)
            if row is None:
                return None
            if expired(row.last_seen_at, row.created_at, now):
                session.delete(row)
                return None
            row.last_seen_at = now
            same = (row.stage, row.login_id) == (first.stage, first.login_id)
            return _view(row, identity if same else None)

    def start(
        self,
        stage: WebStage = WebStage.ANONYMOUS,
        *,
        login_id: int | None = None,
        replaces: str | None = None,
        link_token_hash: str | None = None,
        link_purpose: TokenPurpose | None = None,
        mfa_code_hash: str | None = None,
        mfa_expires_at: datetime | None = None,
    ) -> tuple[str, WebSession]:
        """Issue a new session id (ending ``replaces``, the id it takes over from).

        Returns:
            The cookie value (shown to the browser only) and the session.
        """
        raw = secrets.token_urlsafe(32)
        now = self.ctx.clock()
        row = PortalSession(
            id=digest(raw),
            stage=stage,
            login_id=login_id,
            csrf_secret=secrets.token_urlsafe(32),
            link_token_hash=link_token_hash,
            link_purpose=link_purpose,
            mfa_code_hash=mfa_code_hash,
            mfa_expires_at=mfa_expires_at,
            mfa_attempts=0,
            created_at=now,
            last_seen_at=now,
        )
        with self.ctx.db.write() as session:
            if replaces is not None:
                session.execute(delete(PortalSession).where(PortalSession.id == replaces))
            self._purge(session, now)
            session.add(row)
            session.flush()
            return raw, _view(row)

    def identity(self, login_id: int) -> PortalIdentity | None:
        """Who a signed-in session's login is now (``None`` once the login is gone)."""
        with self.ctx.db.read() as session:
            login = session.get(PortalLogin, login_id)
            return identity_of(session, login) if login is not None else None

    def end(self, session_id: str) -> None:
        with self.ctx.db.write() as session:
            session.execute(delete(PortalSession).where(PortalSession.id == session_id))

    @staticmethod
    def _purge(session: Session, now: datetime) -> None:
        """Delete idle sessions (anyone's), through the ``last_seen_at`` index. A session past
        its absolute limit but still in use is refused and deleted by :meth:`load`; once
        unused it is idle 30 minutes later and goes here."""
        session.execute(
            delete(PortalSession).where(
                PortalSession.last_seen_at <= now - timedelta(minutes=IDLE_MINUTES)
            )
        )
