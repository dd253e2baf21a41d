"""Payer MFA as ClientPay offers it: with ``portal_mfa = "email"``, after the password the payer
enters a 6-digit code emailed through the outbox. A code lives in the browser session that
asked for it (never in another), for :data:`CODE_MINUTES`, allows :data:`CODE_TRIES` wrong
entries, and works once. Staff can exempt a payer (``payer.mfa_exempt``); a login shared by
several payer records skips the code only when every one of them is exempt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from clientpay_tui.db.models import EmailKind, Payer, PortalLogin, PortalSession, WebStage
from clientpay_tui.errors import AuthenticationFailed, ClientPayError, ValidationFailed
from clientpay_tui.portal.common import PORTAL_ACTOR, PortalIdentity, PortalPart, identity_of
from clientpay_tui.portal.sessions import PortalSessions, WebSession
from clientpay_tui.services import audit
from clientpay_tui.services.access_emails import queue_email

CODE_MINUTES = 10
CODE_TRIES = 5
START_AGAIN = "Sign in again to get a new code."


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()


class PortalMfa(PortalPart):
    def required(self, login_id: int) -> bool:
        """Whether this login must enter an emailed code after its password."""
        if self.ctx.settings.portal_mfa != "email":
            return False
        with self.ctx.db.read() as session:
            exempt = list(
                session.scalars(select(Payer.mfa_exempt).where(Payer.login_id == login_id))
            )
        return not exempt or not all(exempt)

    def send_code(self, login_id: int, replaces: str | None) -> tuple[str, WebSession]:
        """Start the login's code stage in a new session and email the code.

        Returns:
            The new session's cookie value and the session (stage ``mfa``).
        """
        code = f"{secrets.randbelow(1_000_000):06d}"
        now = self.ctx.clock()
        expires = now + timedelta(minutes=CODE_MINUTES)
        raw, view = PortalSessions(self.services, floor_seconds=0).start(
            WebStage.MFA,
            login_id=login_id,
            replaces=replaces,
            mfa_code_hash=code_hash(code),
            mfa_expires_at=expires,
        )
        with self.ctx.db.write() as session:
            records = list(
                session.scalars(select(Payer).where(Payer.login_id == login_id).order_by(Payer.id))
            )
            payer = next((p for p in records if p.email), None)
            if payer is not None:
                queue_email(
                    session,
                    self.ctx.settings,
                    payer,
                    EmailKind.SIGN_IN_CODE,
                    now,
                    PORTAL_ACTOR,
                    code=code,
                    expires_at=expires,
                )
            audit.record_for_login(
                session,
                now,
                PORTAL_ACTOR,
                "portal.mfa_sent",
                "Password accepted; a sign-in code was emailed",
                login_id,
            )
        return raw, view

    def verify(self, session_id: str, code: str) -> PortalIdentity:
        """Check the code typed in the session that asked for it; it works once.

        Raises:
            ValidationFailed: a wrong code, with the tries left (the session stays).
            AuthenticationFailed: the code expired, was used or ran out of tries: the session
                is ended and the payer signs in again.
        """
        now = self.ctx.clock()
        failure: ClientPayError | None = None
        with self.ctx.db.write() as session:
            row = session.get(PortalSession, session_id, with_for_update=True)
            if row is None or row.stage != WebStage.MFA or row.login_id is None:
                raise AuthenticationFailed(START_AGAIN)
            login_id = row.login_id
            failure, reason = self._problem(row, code.strip(), now)
            if failure is None:
                row.mfa_code_hash = None  # single use, even before the session is replaced
                login = session.get(PortalLogin, login_id)
                assert login is not None
                login.last_sign_in_at = now
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.mfa_passed",
                    "Sign-in code accepted",
                    login_id,
                )
                return identity_of(session, login)
            audit.record_for_login(
                session,
                now,
                PORTAL_ACTOR,
                "portal.mfa_failed",
                f"Sign-in code refused: {reason} ({row.mfa_attempts} of {CODE_TRIES} tries used)",
                login_id,
            )
            if isinstance(failure, AuthenticationFailed):
                session.delete(row)
        raise failure

    @staticmethod
    def _problem(row: PortalSession, code: str, now: datetime) -> tuple[ClientPayError | None, str]:
        """The answer to a typed code and the reason for the audit log."""
        if row.mfa_code_hash is None or row.mfa_attempts >= CODE_TRIES:
            return AuthenticationFailed(f"That code cannot be used any more. {START_AGAIN}"), "used"
        if row.mfa_expires_at is None or now >= row.mfa_expires_at:
            return AuthenticationFailed(f"That code has expired. {START_AGAIN}"), "expired"
        if hmac.compare_digest(row.mfa_code_hash, code_hash(code)):
            return None, ""
        row.mfa_attempts += 1
        left = CODE_TRIES - row.mfa_attempts
        if left <= 0:
            return AuthenticationFailed(
                f"Too many wrong codes. {START_AGAIN}"
            ), "wrong, the last try"
        return ValidationFailed(
            f"That code is not right. {left} {'try' if left == 1 else 'tries'} left."
        ), "wrong"
