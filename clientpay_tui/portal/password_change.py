"""A signed-in payer changes their password (the portal's Account page).

The current password must be right; the new one follows the policy. The change ends every web
session of the login (the caller signs the current browser in again with a new id), revokes
any outstanding link, queues the "password changed" email and is audited, like a reset.
"""

from __future__ import annotations

from sqlalchemy import select

from clientpay_tui.db.models import EmailKind, Payer, PortalLogin
from clientpay_tui.errors import NotFound, ValidationFailed
from clientpay_tui.portal.common import PORTAL_ACTOR, PortalIdentity, PortalPart, identity_of
from clientpay_tui.services import audit, passwords, tokens
from clientpay_tui.services.access_emails import queue_email
from clientpay_tui.services.portal_sessions import end_login_sessions

WRONG_CURRENT = "Your current password is not right; nothing was changed."


class PortalPasswords(PortalPart):
    def change(
        self, login_id: int, current: str, password: str, password_again: str
    ) -> PortalIdentity:
        """Replace the login's password after checking the current one.

        Raises:
            ValidationFailed: the current password is wrong (audited), the new ones differ or
                break the policy.
            NotFound: the login is gone.
        """
        if password != password_again:
            raise ValidationFailed("The two new passwords are not the same; type them again.")
        with self.ctx.db.read() as session:
            login = session.get(PortalLogin, login_id)
            if login is None:
                raise NotFound("This portal login no longer exists.")
            identity = identity_of(session, login)
            stored = login.password_hash
        passwords.check_password_policy(password, avoid=[identity.email])
        ok = passwords.verify_password(stored, current)  # slow: outside any transaction
        new_hash = passwords.hash_password(password) if ok else None
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            login = session.get(PortalLogin, login_id, with_for_update=True)
            if login is None:
                raise NotFound("This portal login no longer exists.")
            if new_hash is None or login.password_hash != stored:
                audit.record_for_login(
                    session,
                    now,
                    PORTAL_ACTOR,
                    "portal.password_change_failed",
                    "Password change refused: the current password was wrong",
                    login.id,
                )
                changed = False
            else:
                login.password_hash = new_hash
                login.password_changed_at = now
                ended = end_login_sessions(session, login.id)
                revoked = tokens.revoke(session, login.id, now)
                summary = f"Changed the password in the portal; ended {ended} session(s)"
                if revoked:
                    summary += f", revoked {revoked} link(s)"
                payer = session.scalars(
                    select(Payer)
                    .where(Payer.login_id == login.id, Payer.email.is_not(None))
                    .order_by(Payer.id)
                ).first()
                if payer is not None:
                    settings = self.ctx.settings
                    queue_email(
                        session, settings, payer, EmailKind.PASSWORD_CHANGED, now, PORTAL_ACTOR
                    )
                    summary += f"; password-changed email queued to {payer.email}"
                audit.record_for_login(
                    session, now, PORTAL_ACTOR, "portal.password_changed", summary, login.id
                )
                changed = True
        if not changed:
            raise ValidationFailed(WRONG_CURRENT)
        return identity
