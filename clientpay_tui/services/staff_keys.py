"""SSH keys linked to staff accounts, and signing in by the key sshd verified.

An admin links a staff member's public key (``clientpay-tui staff key add``); when
``ssh_key_sign_in`` is on and sshd reports (``ExposeAuthInfo``) that the SSH login used that
key, the app signs the staff member in without a password. A key that is unknown, removed,
or whose account is disabled or locked signs nobody in: the app asks for the password.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Staff, StaffSshKey
from clientpay_tui.errors import NotFound, ValidationFailed
from clientpay_tui.services import audit, lockout
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.ssh_keys import is_fingerprint, parse_public_key


@dataclass(frozen=True)
class KeyInfo:
    username: str
    fingerprint: str
    key_type: str
    comment: str
    created_at: datetime
    last_used_at: datetime | None


class StaffKeyService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def add(self, actor: Actor, username: str, public_key: str) -> KeyInfo:
        """Link ``public_key`` (one ``.pub`` line) to the staff member ``username``."""
        key = parse_public_key(public_key)
        now = self.ctx.clock()
        try:
            with self.ctx.db.write() as session:
                require(session, actor, Permission.MANAGE_STAFF)
                staff = _staff(session, username)
                owner = session.scalar(
                    select(Staff.username)
                    .join(StaffSshKey, StaffSshKey.staff_id == Staff.id)
                    .where(StaffSshKey.fingerprint == key.fingerprint)
                )
                if owner is not None:
                    raise ValidationFailed(
                        f"the key {key.fingerprint} is already linked to {owner}"
                    )
                row = StaffSshKey(
                    staff_id=staff.id,
                    fingerprint=key.fingerprint,
                    key_type=key.key_type,
                    public_key=key.base64,
                    comment=key.comment,
                    created_at=now,
                )
                session.add(row)
                audit.record(
                    session,
                    now,
                    actor,
                    "staff.key_add",
                    f"Linked SSH key {key.fingerprint} to staff {staff.username}",
                )
                session.flush()
                return _info(staff, row)
        except IntegrityError:  # linked by someone else at the same moment
            raise ValidationFailed(f"the key {key.fingerprint} is already linked") from None

    def list(self, actor: Actor, username: str | None = None) -> list[KeyInfo]:
        """Every linked key (or ``username``'s), by staff member then date."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.MANAGE_STAFF)
            query = (
                select(Staff, StaffSshKey)
                .join(StaffSshKey, StaffSshKey.staff_id == Staff.id)
                .order_by(Staff.username, StaffSshKey.created_at, StaffSshKey.id)
            )
            if username is not None:
                query = query.where(Staff.id == _staff(session, username).id)
            return [_info(staff, key) for staff, key in session.execute(query)]

    def remove(self, actor: Actor, key_or_fingerprint: str) -> KeyInfo:
        """Unlink a key, named by its fingerprint (``SHA256:…``) or given as a public key."""
        text = key_or_fingerprint.strip()
        fingerprint = text if is_fingerprint(text) else parse_public_key(text).fingerprint
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_STAFF)
            found = session.execute(
                select(Staff, StaffSshKey)
                .join(StaffSshKey, StaffSshKey.staff_id == Staff.id)
                .where(StaffSshKey.fingerprint == fingerprint)
                .with_for_update()
            ).first()
            if found is None:
                raise NotFound(f"no staff member has the key {fingerprint}")
            staff, key = found
            info = _info(staff, key)
            session.delete(key)
            audit.record(
                session,
                now,
                actor,
                "staff.key_remove",
                f"Unlinked SSH key {fingerprint} from staff {staff.username}",
            )
            return info

    def sign_in(self, fingerprints: Sequence[str]) -> Actor | None:
        """The staff member whose linked key sshd verified, signed in; ``None`` (ask for the
        password) for an unknown key, a disabled or locked account, or keys of two accounts.

        Only call this with fingerprints from the file sshd wrote for this login
        (:func:`clientpay_tui.ssh_auth.keys_sshd_verified`) and with ``ssh_key_sign_in`` on.
        """
        if not self.ctx.settings.ssh_key_sign_in or not fingerprints:
            return None
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            rows = session.execute(
                select(Staff, StaffSshKey)
                .join(StaffSshKey, StaffSshKey.staff_id == Staff.id)
                .where(StaffSshKey.fingerprint.in_(list(fingerprints)))
                .order_by(StaffSshKey.id)
                .with_for_update()
            ).all()
            owners = {staff.id for staff, _key in rows}
            if not rows:
                return None
            staff, key = rows[0]
            refused = ""
            if len(owners) > 1:
                refused = "keys of more than one staff account"
            elif staff.disabled:
                refused = "account disabled"
            elif lockout.is_locked(staff, now):
                refused = "account locked"
            if refused:
                audit.record(
                    session,
                    now,
                    staff.username,
                    "staff.sign_in_failed",
                    f"Sign-in by SSH key {key.fingerprint} refused: {refused}",
                )
                return None
            lockout.clear(staff)
            staff.last_sign_in_at = key.last_used_at = now
            audit.record(
                session,
                now,
                staff.username,
                "staff.sign_in",
                f"Signed in by SSH key {key.fingerprint}",
            )
            return Actor(username=staff.username, role=staff.role, staff_id=staff.id)

    def auth_file_refused(self, reason: str) -> None:
        """Record that this login's ``SSH_USER_AUTH`` was not believed (``reason``: what was
        wrong with it): a misconfigured sshd, or someone trying to pass off a file of their
        own. Nobody was signed in by it; the password screen follows."""
        if not self.ctx.settings.ssh_key_sign_in:
            return
        with self.ctx.db.write() as session:
            audit.record(
                session,
                self.ctx.clock(),
                "unknown",
                "staff.sign_in_failed",
                f"Sign-in by SSH key not tried: {reason}",
            )


def _staff(session: Session, username: str) -> Staff:
    staff = session.scalars(select(Staff).where(Staff.username == username.strip().lower())).first()
    if staff is None:
        raise NotFound(f"no staff member named {username!r}")
    return staff


def _info(staff: Staff, key: StaffSshKey) -> KeyInfo:
    return KeyInfo(
        username=staff.username,
        fingerprint=key.fingerprint,
        key_type=key.key_type,
        comment=key.comment,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
    )
