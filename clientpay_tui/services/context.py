"""Who is acting, what their role allows, and the collaborators every service shares."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from clientpay_tui.config import Settings
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Role, Staff
from clientpay_tui.db.types import utcnow
from clientpay_tui.errors import PermissionDenied

Clock = Callable[[], datetime]


class Permission(enum.StrEnum):
    VIEW = "view payers"
    SEND_RESET = "send password resets and re-send welcome emails"
    GRANT_ACCESS = "grant login access"
    DELETE_LOGIN = "delete logins"
    EDIT_PAYERS = "edit payers"
    MANAGE_ASSOCIATIONS = "create and remove associations"
    MANAGE_STAFF = "manage staff accounts"
    MANAGE_INTEGRATIONS = "manage integrations"


_AGENT = frozenset({Permission.VIEW, Permission.SEND_RESET})
_STAFF = _AGENT | {
    Permission.GRANT_ACCESS,
    Permission.DELETE_LOGIN,
    Permission.EDIT_PAYERS,
    Permission.MANAGE_ASSOCIATIONS,
}
_ADMIN = _STAFF | {Permission.MANAGE_STAFF, Permission.MANAGE_INTEGRATIONS}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: _AGENT,
    Role.STAFF: frozenset(_STAFF),
    Role.ADMIN: frozenset(_ADMIN),
}


def lowest_role_for(permission: Permission) -> Role:
    return next(
        role
        for role in (Role.AGENT, Role.STAFF, Role.ADMIN)
        if permission in ROLE_PERMISSIONS[role]
    )


@dataclass(frozen=True)
class Actor:
    """The person (or command line) on whose behalf a service acts."""

    username: str
    role: Role
    staff_id: int | None = None
    """``None`` for the command line, which acts with the operator's shell access."""

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def denial(self, permission: Permission) -> str | None:
        """Why this actor may not do ``permission`` (``None`` if allowed), as one line."""
        if self.can(permission):
            return None
        needed = lowest_role_for(permission)
        return f"Only {needed.value} or above may {permission.value}; you are {self.role.value}."


def command_line_actor(os_user: str) -> Actor:
    """The operator of ``clientpay-tui`` commands: shell access to the database is admin."""
    return Actor(username=f"cli:{os_user}", role=Role.ADMIN)


def require(session: Session, actor: Actor, permission: Permission) -> None:
    """Refuse unless the actor's role allows ``permission`` and their account is still usable.

    The account is re-read so that disabling a staff member takes effect on their next action,
    not only on their next sign-in.
    """
    reason = actor.denial(permission)
    if reason:
        raise PermissionDenied(reason)
    if actor.staff_id is None:
        return
    staff = session.get(Staff, actor.staff_id)
    if staff is None or staff.disabled:
        raise PermissionDenied(f"The staff account {actor.username} is disabled.")
    if staff.role != actor.role and permission not in ROLE_PERMISSIONS[staff.role]:
        raise PermissionDenied(
            f"{actor.username} is now {staff.role.value}: may not {permission.value}."
        )


@dataclass
class ServiceContext:
    """What every service needs: the database, the settings and a clock."""

    db: Database
    settings: Settings
    clock: Clock = field(default=utcnow)
