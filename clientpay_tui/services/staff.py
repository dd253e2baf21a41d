"""Staff accounts: roles, sign-in with argon2id and lockout, and their administration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Role, Staff
from clientpay_tui.errors import (
    AccountLocked,
    AuthenticationFailed,
    NotFound,
    ValidationFailed,
)
from clientpay_tui.services import audit, lockout, passwords
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.lockout import LockoutPolicy

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class StaffInfo:
    username: str
    role: Role
    disabled: bool
    locked_until: datetime | None
    last_sign_in_at: datetime | None
    created_at: datetime


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        roles = ", ".join(role.value for role in Role)
        raise ValidationFailed(f"unknown role {value!r}: use one of {roles}") from None


RESERVED_USERNAMES = frozenset({"portal", "unknown"})
"""Actor names the audit log and the outbox use for what is not a staff member's doing."""
UNKNOWN_USER = "Sign-in refused: an unknown user name"
"""The audit entry for a sign-in with a user name that has no account. What was typed is not
logged: it may be a password typed in the wrong box, and agents read the audit log."""


def check_username(value: str) -> str:
    name = value.strip().lower()
    if not _USERNAME.match(name):
        raise ValidationFailed(
            f"invalid username {value!r}: 2-64 characters, lower-case letters, digits, . _ -"
        )
    if name in RESERVED_USERNAMES:
        raise ValidationFailed(f"the username {name!r} is reserved for the audit log")
    return name


class StaffService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def add(self, actor: Actor, username: str, role: Role, password: str) -> StaffInfo:
        name = check_username(username)
        passwords.check_password_policy(password, avoid=[name])
        password_hash = passwords.hash_password(password)  # slow: before the transaction
        now = self.ctx.clock()
        try:
            with self.ctx.db.write() as session:
                require(session, actor, Permission.MANAGE_STAFF)
                if session.scalar(select(Staff.id).where(Staff.username == name)) is not None:
                    raise ValidationFailed(f"staff member {name} already exists")
                staff = Staff(
                    username=name,
                    role=role,
                    password_hash=password_hash,
                    disabled=False,
                    failed_attempts=0,
                    created_at=now,
                )
                session.add(staff)
                audit.record(
                    session, now, actor, "staff.add", f"Added staff {name} as {role.value}"
                )
                session.flush()
                return _info(staff)
        except IntegrityError:
            raise ValidationFailed(f"staff member {name} already exists") from None

    def list(self, actor: Actor) -> list[StaffInfo]:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.MANAGE_STAFF)
            return [_info(s) for s in session.scalars(select(Staff).order_by(Staff.username))]

    def set_disabled(self, actor: Actor, username: str, disabled: bool) -> StaffInfo:
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_STAFF)
            staff = self._get(session, username)
            staff.disabled = disabled
            verb = "Disabled" if disabled else "Enabled"
            audit.record(
                session,
                now,
                actor,
                f"staff.{'disable' if disabled else 'enable'}",
                f"{verb} staff {staff.username}",
            )
            return _info(staff)

    def unlock(self, actor: Actor, username: str) -> StaffInfo:
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_STAFF)
            staff = self._get(session, username)
            lockout.clear(staff)
            audit.record(session, now, actor, "staff.unlock", f"Unlocked staff {staff.username}")
            return _info(staff)

    def sign_in(self, username: str, password: str) -> Actor:
        """Check a staff member's password; count failures and lock after too many.

        Raises:
            AccountLocked: the account is locked (also said for the attempt that locks it).
            AuthenticationFailed: anything else; the message never says which part was wrong.
        """
        settings = self.ctx.settings
        name = username.strip().lower()
        with self.ctx.db.read() as session:
            staff = session.scalars(select(Staff).where(Staff.username == name)).first()
            stored_hash = staff.password_hash if staff else None
        ok = passwords.verify_password(stored_hash, password)  # slow: outside the transaction
        now = self.ctx.clock()
        error: AuthenticationFailed = AuthenticationFailed("Wrong username or password.")
        with self.ctx.db.write() as session:
            staff = session.scalars(
                select(Staff).where(Staff.username == name).with_for_update()
            ).first()
            if staff is None:
                audit.record(session, now, "unknown", "staff.sign_in_failed", UNKNOWN_USER)
            elif lockout.is_locked(staff, now):
                assert staff.locked_until is not None
                error = AccountLocked(staff.locked_until)
            elif staff.disabled:
                audit.record(
                    session, now, staff.username, "staff.sign_in_failed", "Account disabled"
                )
                error = AuthenticationFailed("This staff account is disabled.")
            elif not ok:
                if lockout.record_failure(staff, LockoutPolicy.from_settings(settings), now):
                    assert staff.locked_until is not None
                    audit.record(
                        session, now, staff.username, "staff.locked", "Locked after failed sign-ins"
                    )
                    error = AccountLocked(staff.locked_until)
                audit.record(session, now, staff.username, "staff.sign_in_failed", "Wrong password")
            else:
                lockout.clear(staff)
                staff.last_sign_in_at = now
                if passwords.needs_rehash(staff.password_hash):
                    staff.password_hash = passwords.hash_password(password)
                audit.record(session, now, staff.username, "staff.sign_in", "Signed in")
                return Actor(username=staff.username, role=staff.role, staff_id=staff.id)
        # Raised after the commit, so failed attempts, the lock and their audit events are kept.
        raise error

    def signed_out_idle(self, actor: Actor, minutes: int, *, ended: bool = False) -> None:
        """Record that the app signed ``actor`` out after ``minutes`` without a key press
        (``ended``: and ended the SSH session, as after a sign-in by SSH key)."""
        summary = f"Signed out after {minutes} minutes idle"
        with self.ctx.db.write() as session:
            audit.record(
                session,
                self.ctx.clock(),
                actor,
                "staff.sign_out",
                f"{summary}; the SSH session ended" if ended else summary,
            )

    def signed_out(self, actor: Actor) -> None:
        """Record that ``actor`` signed out (the palette's Sign out)."""
        with self.ctx.db.write() as session:
            audit.record(session, self.ctx.clock(), actor, "staff.sign_out", "Signed out")

    @staticmethod
    def _get(session: Session, username: str) -> Staff:
        staff = session.scalars(
            select(Staff).where(Staff.username == username.strip().lower()).with_for_update()
        ).first()
        if staff is None:
            raise NotFound(f"no staff member named {username!r}")
        return staff


def _info(staff: Staff) -> StaffInfo:
    return StaffInfo(
        username=staff.username,
        role=staff.role,
        disabled=staff.disabled,
        locked_until=staff.locked_until,
        last_sign_in_at=staff.last_sign_in_at,
        created_at=staff.created_at,
    )
