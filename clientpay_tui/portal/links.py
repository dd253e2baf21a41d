"""The welcome and reset links: accept an invitation, complete a reset, both setting a password.

Every refused link (unknown, altered, expired, used, replaced by a newer one, or meant for the
other form) gets the same :class:`~clientpay_tui.errors.InvalidLink` answer and an audit event
with the real reason, on each payer record of the link's login when the link was found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from clientpay_tui.db.models import EmailKind, LoginStatus, PortalLogin, TokenPurpose
from clientpay_tui.errors import InvalidLink, ValidationFailed
from clientpay_tui.portal.common import (
    PORTAL_ACTOR,
    PortalIdentity,
    PortalPart,
    identity_of,
    records_of,
)
from clientpay_tui.services import audit, lockout, passwords, tokens
from clientpay_tui.services.access_emails import queue_email
from clientpay_tui.services.portal_sessions import end_login_sessions

_LINK_NAMES = {TokenPurpose.WELCOME: "welcome", TokenPurpose.RESET: "reset"}


@dataclass(frozen=True)
class LinkInfo:
    """What the portal shows above the password form of a valid link."""

    email: str
    purpose: TokenPurpose
    expires_at: datetime
    login_id: int


class PortalLinks(PortalPart):
    def open_link(self, token: str, purpose: TokenPurpose) -> LinkInfo:
        """Check a link before showing its password form; it stays unused.

        Raises:
            InvalidLink: the link cannot be used (audited with the reason).
        """
        return self._open(lambda s, now: tokens.check(s, token, purpose, now), purpose)

    def open_digest(self, digest: str, purpose: TokenPurpose) -> LinkInfo:
        """:meth:`open_link` for a link the web portal exchanged and keeps by its SHA-256."""
        return self._open(lambda s, now: tokens.check_digest(s, digest, purpose, now), purpose)

    def _open(
        self, checker: Callable[[Session, datetime], tokens.TokenCheck], purpose: TokenPurpose
    ) -> LinkInfo:
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            check = checker(session, now)
            if check.ok and check.token is not None:
                login = session.get(PortalLogin, check.token.login_id)
                assert login is not None
                return LinkInfo(
                    identity_of(session, login).email, purpose, check.token.expires_at, login.id
                )
            failure = self._refused(session, check, purpose, now)
        raise failure  # after the commit, so the audit event is kept

    def accept_invitation(self, token: str, password: str, password_again: str) -> PortalIdentity:
        """Set the first password with a welcome link; the login becomes active.

        Raises:
            ValidationFailed: the passwords differ or break the policy (the link stays usable).
            InvalidLink: the link cannot be used.
        """
        return self._set_password(token, TokenPurpose.WELCOME, password, password_again)

    def complete_reset(self, token: str, password: str, password_again: str) -> PortalIdentity:
        """Set a new password with a reset link.

        Every other outstanding link of the login is revoked, any lock is lifted (the payer
        proved they read the login's mailbox), and a "password changed" email is queued.

        Raises:
            ValidationFailed: the passwords differ or break the policy (the link stays usable).
            InvalidLink: the link cannot be used.
        """
        return self._set_password(token, TokenPurpose.RESET, password, password_again)

    def set_password_digest(
        self, digest: str, purpose: TokenPurpose, password: str, password_again: str
    ) -> PortalIdentity:
        """:meth:`accept_invitation` / :meth:`complete_reset` for a link the web portal
        exchanged and keeps by its SHA-256. Ends every web session of the login."""
        return self._set_password(
            lambda s, now: tokens.check_digest(s, digest, purpose, now),
            purpose,
            password,
            password_again,
        )

    def _set_password(
        self,
        token: str | Callable[[Session, datetime], tokens.TokenCheck],
        purpose: TokenPurpose,
        password: str,
        password_again: str,
    ) -> PortalIdentity:
        if password != password_again:
            raise ValidationFailed("The two passwords are not the same; type them again.")
        passwords.check_password_policy(password)
        new_hash = passwords.hash_password(password)  # slow: before the transaction
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            check = (
                tokens.check(session, token, purpose, now)
                if isinstance(token, str)
                else token(session, now)
            )
            if check.ok and check.token is not None:
                login = session.get(PortalLogin, check.token.login_id, with_for_update=True)
                assert login is not None
                identity = identity_of(session, login)
                passwords.check_password_policy(password, avoid=[identity.email])
                if tokens.consume(session, check.token, now):
                    self._apply(session, login, purpose, new_hash, now)
                    return identity
                check = tokens.TokenCheck(check.token, tokens.TokenProblem.USED)
            failure = self._refused(session, check, purpose, now)
        raise failure

    def _apply(
        self,
        session: Session,
        login: PortalLogin,
        purpose: TokenPurpose,
        new_hash: str,
        now: datetime,
    ) -> None:
        login.password_hash = new_hash
        login.password_changed_at = now
        if login.status == LoginStatus.INVITED:
            login.status, login.accepted_at = LoginStatus.ACTIVE, now
        lockout.clear(login)
        end_login_sessions(session, login.id)
        revoked = tokens.revoke(session, login.id, now)
        extra = f"; revoked {revoked} other link(s)" if revoked else ""
        if purpose == TokenPurpose.WELCOME:
            action, summary = (
                "portal.accept",
                f"Accepted the invitation and chose a password{extra}",
            )
        else:
            action, summary = (
                "portal.password_reset",
                f"Chose a new password with a reset link{extra}",
            )
            payer = next((p for p in records_of(session, login.id) if p.email), None)
            if payer is not None:
                settings = self.ctx.settings
                queue_email(session, settings, payer, EmailKind.PASSWORD_CHANGED, now, PORTAL_ACTOR)
                summary += f"; password-changed email queued to {payer.email}"
        audit.record_for_login(session, now, PORTAL_ACTOR, action, summary, login.id)

    @staticmethod
    def _refused(
        session: Session, check: tokens.TokenCheck, purpose: TokenPurpose, now: datetime
    ) -> InvalidLink:
        assert check.problem is not None
        login_id = check.token.login_id if check.token is not None else None
        audit.record_for_login(
            session,
            now,
            PORTAL_ACTOR,
            "portal.link_refused",
            f"Refused a {_LINK_NAMES[purpose]} link: {check.problem.value}",
            login_id,
        )
        return InvalidLink(check.problem.value)
