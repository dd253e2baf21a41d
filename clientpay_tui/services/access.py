"""Login access: grant, delete, password reset / re-send welcome, and moving a login.

Each action changes the login, issues its token and queues its email in one transaction (the
transactional outbox), so a grant never exists without its email nor an email without its grant.
One login belongs to one email address; payer records with that address share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientpay_tui.db.models import (
    EmailKind,
    LoginStatus,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.errors import AccessStateError, ConcurrentGrant, NoLogin, NotFound
from clientpay_tui.services import audit, lockout, tokens
from clientpay_tui.services.access_emails import (
    EmailBudget,
    EmailQueued,
    cancel_unsent,
    check_budget,
    email_budget,
    queue_email,
)
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.payer_status import welcome_expiries, welcome_link_dead
from clientpay_tui.services.portal_sessions import end_login_sessions


@dataclass(frozen=True)
class LoginDeleted:
    email: str
    login_removed: bool
    """False when the login still covers other payer records with the same address."""
    still_covers: int


class AccessService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def budget(self, actor: Actor, payer_id: int) -> EmailBudget:
        """Recent access emails to the payer, for a dialog to explain the limit."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return email_budget(session, self.ctx.settings, payer_id, self.ctx.clock())

    # -- actions -----------------------------------------------------------------------------

    def grant(self, actor: Actor, payer_id: int, *, confirmed_resend: bool = False) -> EmailQueued:
        """Give the payer login access and queue the welcome email (or, when their address
        already has a login, attach them to it and queue a short notice).

        Args:
            confirmed_resend: the user was told an email went out moments ago and confirmed.
        """
        now = self.ctx.clock()
        try:
            with self.ctx.db.write() as session:
                require(session, actor, Permission.GRANT_ACCESS)
                payer = self._payer(session, payer_id)
                if payer.login_id is not None:
                    raise AccessStateError(f"{payer.name} already has login access.")
                check_budget(session, self.ctx.settings, payer.id, now, confirmed_resend)
                return self._attach_or_invite(session, actor, payer, now)
        except IntegrityError:
            raise ConcurrentGrant() from None

    def delete_login(self, actor: Actor, payer_id: int) -> LoginDeleted:
        """Take login access away from this payer record; remove the login when it covers
        no record any more. Unsent access emails to the payer are cancelled."""
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.DELETE_LOGIN)
            payer = self._payer(session, payer_id)
            if payer.login_id is None:
                raise AccessStateError(f"{payer.name} has no login to delete.")
            result = self._detach(session, payer, now, "Cancelled: the login was deleted.")
            if result.login_removed:
                summary = f"Deleted the login for {result.email}"
            else:
                summary = (
                    f"Removed {payer.name} from the login {result.email} "
                    f"(it still covers {result.still_covers} other record(s))"
                )
            audit.record(session, now, actor, "access.delete", summary, payer.id)
            return result

    def send_reset(
        self,
        actor: Actor,
        payer_id: int,
        *,
        confirmed_resend: bool = False,
        only_expired_invitation: bool = False,
    ) -> EmailQueued:
        """Queue a password-reset email, or re-send the welcome email while only invited.

        Args:
            only_expired_invitation: re-send the welcome email only if the invitation's link
                no longer works (bulk re-send); else raise :class:`AccessStateError`.
        """
        now = self.ctx.clock()
        settings = self.ctx.settings
        with self.ctx.db.write() as session:
            require(session, actor, Permission.SEND_RESET)
            payer = self._payer(session, payer_id)
            login = session.get(PortalLogin, payer.login_id) if payer.login_id else None
            if login is None or not payer.email:
                raise NoLogin(payer.name)
            if only_expired_invitation:
                _require_expired_invitation(session, payer, login, now)
            check_budget(session, self.ctx.settings, payer.id, now, confirmed_resend)
            if login.status == LoginStatus.INVITED:
                raw, expires = tokens.issue(
                    session,
                    login,
                    TokenPurpose.WELCOME,
                    now,
                    timedelta(days=settings.welcome_token_days),
                )
                kind, link, action = EmailKind.WELCOME, f"{settings.portal_url}/welcome", "resend"
                summary = f"Re-sent the welcome email to {payer.email}"
            else:
                raw, expires = tokens.issue(
                    session,
                    login,
                    TokenPurpose.RESET,
                    now,
                    timedelta(hours=settings.reset_token_hours),
                )
                kind, link, action = EmailKind.RESET, f"{settings.portal_url}/reset", "reset"
                summary = f"Sent a password reset to {payer.email}"
            email = self._queue(
                session, actor, payer, kind, now, link=f"{link}?token={raw}", expires_at=expires
            )
            audit.record(session, now, actor, f"access.{action}", summary, payer.id)
            return email

    def unlock_login(self, actor: Actor, payer_id: int) -> str:
        """Lift the lock that failed portal sign-ins put on this payer's login.

        Anyone who may send a password reset may unlock: a reset would let the payer in too,
        and support staff are the ones a locked-out payer calls.

        Returns:
            The login's email address, for the confirmation toast.
        """
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.SEND_RESET)
            payer = self._payer(session, payer_id)
            login = (
                session.get(PortalLogin, payer.login_id, with_for_update=True)
                if payer.login_id
                else None
            )
            if login is None:
                raise AccessStateError(f"{payer.name} has no login to unlock.")
            if not lockout.is_locked(login, now):
                raise AccessStateError(f"The login {login.email_key} is not locked.")
            lockout.clear(login)
            audit.record_for_login(
                session,
                now,
                actor,
                "access.unlock",
                f"Unlocked the portal login {login.email_key}",
                login.id,
            )
            return login.email_key

    def set_mfa_exempt(self, actor: Actor, payer_id: int, exempt: bool) -> bool:
        """Let this payer sign in to the portal without the emailed code (``portal_mfa =
        "email"``), or stop letting them. A login shared by several records skips the code
        only when every one of them is exempt.

        Returns:
            Whether anything changed.
        """
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.EDIT_PAYERS)
            payer = self._payer(session, payer_id)
            if payer.mfa_exempt == exempt:
                return False
            payer.mfa_exempt = exempt
            summary = (
                "Exempted from the emailed sign-in code (MFA)"
                if exempt
                else "No longer exempt from the emailed sign-in code (MFA)"
            )
            audit.record(session, now, actor, "access.mfa_exempt", summary, payer.id)
            return True

    def move_login(
        self, session: Session, actor: Actor, payer: Payer, now: datetime
    ) -> EmailQueued:
        """Inside a payer update: revoke the login of the old address and invite the new one.

        The old address is told, in the same transaction: a staff member who owns the new
        address gets the welcome link, so the payer must hear of it where they can still read
        it. The notice holds no link, does not count against the email limit, and nothing
        done to the payer afterwards (delete, another move) cancels it.

        ``payer`` already holds the new email; the caller owns the transaction.
        """
        require(session, actor, Permission.GRANT_ACCESS)
        require(session, actor, Permission.DELETE_LOGIN)
        detached = self._detach(session, payer, now, "Cancelled: the payer's email changed.")
        check_budget(session, self.ctx.settings, payer.id, now, confirmed=True)
        self._queue(
            session,
            actor,
            payer,
            EmailKind.LOGIN_MOVED,
            now,
            to_address=detached.email,
            changed_at=now,
            login_kept=not detached.login_removed,
        )
        queued = self._attach_or_invite(session, actor, payer, now, audit_it=False)
        audit.record(
            session,
            now,
            actor,
            "access.move",
            f"Moved the login from {detached.email} to {payer.email}; "
            f"a notice went to {detached.email}",
            payer.id,
        )
        return queued

    # -- pieces ------------------------------------------------------------------------------

    @staticmethod
    def _payer(session: Session, payer_id: int) -> Payer:
        payer = session.get(Payer, payer_id, with_for_update=True)
        if payer is None:
            raise NotFound(f"Payer {payer_id} does not exist (any more).")
        return payer

    def _attach_or_invite(
        self, session: Session, actor: Actor, payer: Payer, now: datetime, *, audit_it: bool = True
    ) -> EmailQueued:
        settings = self.ctx.settings
        if not payer.email or not payer.email_key:
            raise AccessStateError(
                f"{payer.name} has no email address: add one before granting login access."
            )
        login = session.scalars(
            select(PortalLogin).where(PortalLogin.email_key == payer.email_key).with_for_update()
        ).first()
        if login is not None:
            _set_login(session, payer, login.id)
            email = self._queue(
                session, actor, payer, EmailKind.ACCESS_ADDED, now, added=payer.name
            )
            summary = f"Added {payer.name} to the existing login {payer.email}"
            action = "access.attach"
        else:
            login = PortalLogin(
                email_key=payer.email_key,
                status=LoginStatus.INVITED,
                created_at=now,
                failed_attempts=0,
            )
            session.add(login)
            session.flush()
            _set_login(session, payer, login.id)
            raw, expires = tokens.issue(
                session,
                login,
                TokenPurpose.WELCOME,
                now,
                timedelta(days=settings.welcome_token_days),
            )
            email = self._queue(
                session,
                actor,
                payer,
                EmailKind.WELCOME,
                now,
                link=f"{settings.portal_url}/welcome?token={raw}",
                expires_at=expires,
            )
            summary = f"Granted login access; welcome email queued to {payer.email}"
            action = "access.grant"
        if audit_it:
            audit.record(session, now, actor, action, summary, payer.id)
        return email

    def _detach(self, session: Session, payer: Payer, now: datetime, reason: str) -> LoginDeleted:
        login = session.get(PortalLogin, payer.login_id, with_for_update=True)
        assert login is not None
        _set_login(session, payer, None)
        end_login_sessions(session, login.id)  # what the login's sessions see just changed
        cancel_unsent(session, payer.id, reason)
        remaining = session.scalar(
            select(func.count()).select_from(Payer).where(Payer.login_id == login.id)
        )
        remaining = int(remaining or 0)
        email = login.email_key
        if remaining == 0:
            tokens.revoke(session, login.id, now)
            session.delete(login)
            session.flush()
        return LoginDeleted(email=email, login_removed=remaining == 0, still_covers=remaining)

    def _queue(
        self,
        session: Session,
        actor: Actor,
        payer: Payer,
        kind: EmailKind,
        now: datetime,
        *,
        to_address: str | None = None,
        **values: object,
    ) -> EmailQueued:
        return queue_email(
            session,
            self.ctx.settings,
            payer,
            kind,
            now,
            actor.username,
            to_address=to_address,
            **values,
        )


def _require_expired_invitation(
    session: Session, payer: Payer, login: PortalLogin, now: datetime
) -> None:
    if login.status != LoginStatus.INVITED:
        raise AccessStateError(f"{payer.name} has accepted the invitation already.")
    if not welcome_link_dead(welcome_expiries(session, [login.id]).get(login.id), now):
        raise AccessStateError(f"The invitation of {payer.name} is still valid.")


def _set_login(session: Session, payer: Payer, login_id: int | None) -> None:
    """Point the payer at a login without bumping its version: access is not a field the
    user edits, so an open edit form of the same payer must still save afterwards."""
    session.execute(
        update(Payer)
        .where(Payer.id == payer.id)
        .values(login_id=login_id)
        .execution_options(synchronize_session=False)
    )
    session.expire(payer, ["login_id", "login"])
