"""The values stored in enum columns, without SQLAlchemy: screens and widgets use them too, and
never import ``clientpay_tui.db`` (an import-linter contract). ``clientpay_tui.db.models``
re-exports them beside the columns that hold them."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    AGENT = "agent"
    STAFF = "staff"
    ADMIN = "admin"


class LoginStatus(enum.StrEnum):
    INVITED = "invited"
    ACTIVE = "active"


class TokenPurpose(enum.StrEnum):
    WELCOME = "welcome"
    RESET = "reset"


class InvoiceSource(enum.StrEnum):
    INTERNAL = "internal"
    CONNECT = "connect"
    EXTERNAL = "external"


class EmailKind(enum.StrEnum):
    WELCOME = "welcome"
    RESET = "reset"
    ACCESS_ADDED = "access_added"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an email kind, not a secret
    LOGIN_MOVED = "login_moved"
    """To a login's old address when staff move the login to another one (no link in it)."""
    SIGN_IN_CODE = "sign_in_code"
    RECEIPT = "receipt"
    INVITE_REMINDER = "invite_reminder"
    """The one reminder of an invitation not accepted after ``invite_reminder_days``."""


class EmailStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class IntegrationName(enum.StrEnum):
    CONNECT = "connect"
    INVOICING = "invoicing"


class WebStage(enum.StrEnum):
    """How far a portal browser session has come."""

    ANONYMOUS = "anonymous"
    """A visitor with a form open (sign-in, forgot): the session only carries its CSRF secret."""
    LINK = "link"
    """A welcome or reset link was exchanged: the session may set that login's password."""
    MFA = "mfa"
    """The password was right; the emailed code is still to be entered."""
    SIGNED_IN = "signed_in"
