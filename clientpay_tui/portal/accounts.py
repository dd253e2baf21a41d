"""Signing in to the portal and asking for a password reset: the two forms that take an email.

Neither may tell whether an address has a login. Both give one answer for every address and do
the same kind of work for unknown ones (a dummy argon2 check, a dummy email), then wait out a
fixed floor (:data:`~clientpay_tui.portal.common.RESPONSE_FLOOR_SECONDS`). A locked login
answers like a wrong password, so a lock cannot reveal an account either; the message says that
sign-in pauses after repeated failures, so a locked-out payer knows to wait or ask for a reset.
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from clientpay_tui.db.models import EmailKind, LoginStatus, TokenPurpose
from clientpay_tui.errors import AuthenticationFailed, ValidationFailed
from clientpay_tui.mail.compose import compose
from clientpay_tui.portal.common import (
    PORTAL_ACTOR,
    PortalIdentity,
    PortalPart,
    email_key,
    identity_of,
    login_by_email,
    records_of,
)
from clientpay_tui.services import audit, lockout, passwords, tokens
from clientpay_tui.services.access_emails import email_budget, queue_email
from clientpay_tui.services.lockout import LockoutPolicy
from clientpay_tui.text import one_line

RESET_REQUESTED = (
    "If that address has a login, a link to choose a new password is on its way. "
    "It works once, for a limited time."
)
"""The one answer to every reset request."""


def sign_in_failed(attempts: int, minutes: int) -> str:
    """The one answer to every refused sign-in."""
    return (
        f"Wrong email address or password. After {attempts} failed attempts, sign-in is "
        f"paused for {minutes} minutes; you can ask for a password reset at any time."
    )


class PortalAccounts(PortalPart):
    def authenticate(self, email: str, password: str) -> PortalIdentity:
        """Sign a payer in with their email address and password.

        A good password re-hashes the stored hash when the hasher's parameters changed.

        Raises:
            AuthenticationFailed: with the same message for an unknown address, a wrong
                password, a login not yet accepted and a locked login.
        """
        started = time.perf_counter()
        settings = self.ctx.settings
        key = email_key(email)
        with self.ctx.db.read() as session:
            login = login_by_email(session, key)
            stored = login.password_hash if login is not None else None
        ok = passwords.verify_password(stored, password)  # slow: outside any transaction
        new_hash = None
        if ok and stored is not None and passwords.needs_rehash(stored):
            new_hash = passwords.hash_password(password)
        now = self.ctx.clock()
        identity = None
        with self.ctx.db.write() as session:
            login = login_by_email(session, key, lock=True)
            if login is None:
                # Only a well-formed address is written down: anything else may be a password
                # typed in the wrong box, and agents read the audit log.
                audit.record(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.sign_in_failed",
                    f"Portal sign-in refused: no login for {one_line(key, 80)!r}"
                    if key is not None
                    else "Portal sign-in refused: what was typed is not an email address",
                )
            elif lockout.is_locked(login, now):
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.sign_in_failed",
                    f"Portal sign-in refused: {login.email_key} is locked until "
                    f"{login.locked_until:%H:%M} UTC",
                    login.id,
                )
            elif not ok or (
                # Changed since it was read (a reset, or another sign-in's rehash): check again.
                login.password_hash != stored
                and not passwords.verify_password(login.password_hash, password)
            ):
                locked = lockout.record_failure(login, LockoutPolicy.from_settings(settings), now)
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.sign_in_failed",
                    f"Portal sign-in refused: wrong password for {login.email_key}"
                    if login.status == LoginStatus.ACTIVE
                    else f"Portal sign-in refused: {login.email_key} has no password yet",
                    login.id,
                )
                if locked:
                    audit.record_for_login(
                        session,
                        now,
                        PORTAL_ACTOR,
                        "portal.locked",
                        f"Locked the portal login {login.email_key} until "
                        f"{login.locked_until:%H:%M} UTC after {settings.lockout_attempts} "
                        "failed sign-ins",
                        login.id,
                    )
            else:
                lockout.clear(login)
                login.last_sign_in_at = now
                summary = f"Signed in to the portal as {login.email_key}"
                if new_hash is not None:
                    login.password_hash = new_hash
                    summary += " (password hash upgraded)"
                audit.record_for_login(
                    session, now, PORTAL_ACTOR, "portal.sign_in", summary, login.id
                )
                identity = identity_of(session, login)
        self.pace(started)
        if identity is None:
            raise AuthenticationFailed(
                sign_in_failed(settings.lockout_attempts, settings.lockout_minutes)
            )
        return identity

    def request_reset(self, email: str) -> str:
        """Email a reset link to the address if it has a login; answer the same either way.

        A login whose invitation is not accepted yet gets a fresh welcome link instead. The
        portal's own per-payer limit applies, silently: requests that anyone can make never
        spend the staff's budget, so they cannot stop a reset that staff send.

        Returns:
            :data:`RESET_REQUESTED`, whatever happened.

        Raises:
            ValidationFailed: the text is not an email address (that says nothing about
                accounts).
        """
        started = time.perf_counter()
        key = email_key(email)
        if key is None:
            raise ValidationFailed("Enter your email address, such as name@example.com.")
        settings = self.ctx.settings
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            login = login_by_email(session, key, lock=True)
            records = records_of(session, login.id) if login is not None else []
            payer = next((p for p in records if p.email), None)
            if login is None or payer is None:
                # Spend what the real path spends: a token, its hash and an email's templates.
                tokens.hash_token(secrets.token_urlsafe(tokens.TOKEN_BYTES))
                compose(
                    EmailKind.RESET,
                    firm_name=settings.firm_name,
                    payer_name="",
                    portal_url=settings.portal_url,
                    link=settings.portal_url,
                    expires_at=now,
                )
                audit.record(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.reset_requested",
                    f"Password reset asked for {one_line(key, 80)!r}, which has no login",
                )
            elif (
                budget := email_budget(session, settings, payer.id, now, self_service=True)
            ).next_allowed_at:
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.reset_limited",
                    f"Password reset asked for {login.email_key}: not sent, the limit of "
                    f"portal requests ({budget.limit} in {budget.window_minutes} min) "
                    "is reached",
                    login.id,
                )
            else:
                if login.status == LoginStatus.INVITED:
                    purpose, kind, path = TokenPurpose.WELCOME, EmailKind.WELCOME, "welcome"
                    valid_for = timedelta(days=settings.welcome_token_days)
                    what = "a new welcome link"
                else:
                    purpose, kind, path = TokenPurpose.RESET, EmailKind.RESET, "reset"
                    valid_for = timedelta(hours=settings.reset_token_hours)
                    what = "a reset link"
                raw, expires = tokens.issue(session, login, purpose, now, valid_for)
                queue_email(
                    session,
                    settings,
                    payer,
                    kind,
                    now,
                    PORTAL_ACTOR,
                    link=f"{settings.portal_url}/{path}?token={raw}",
                    expires_at=expires,
                )
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.reset_requested",
                    f"Password reset asked for in the portal; {what} was queued to {payer.email}",
                    login.id,
                )
        self.pace(started)
        return RESET_REQUESTED
