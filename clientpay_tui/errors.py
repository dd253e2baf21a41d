"""Domain errors: each carries one line that can be shown to a person as it is.

Services raise these; screens turn them into toasts or dialogs and the command line into a
one-line message with a non-zero exit. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum


class ClientPayError(Exception):
    """Base of every expected error. ``str(error)`` is the one-line message."""


class ConfigError(ClientPayError):
    """A setting or the configuration file is invalid."""


class NoTerminal(ClientPayError):
    """The app was started without a terminal on its standard input or output."""


class DatabaseError(ClientPayError):
    """The database cannot be reached or used."""


class SchemaOutdated(DatabaseError):
    """The database is behind the code's migrations."""


class QueryInterrupted(DatabaseError):
    """A query was stopped because nobody waits for its answer any more."""


class DatabaseBusy(DatabaseError):
    """The database stayed locked by another process for longer than the busy timeout."""


class NotFound(ClientPayError):
    """A record asked for does not exist (any more)."""


class ValidationFailed(ClientPayError):
    """Input that cannot be accepted, such as a malformed email address."""


class PermissionDenied(ClientPayError):
    """The signed-in staff member's role does not allow the action."""


class StaleEdit(ClientPayError):
    """Someone else saved the record after it was loaded; nothing was overwritten."""


class AccessStateError(ClientPayError):
    """The action does not fit the payer's login state (e.g. no login to delete)."""


class NoLogin(AccessStateError):
    """The action needs the payer's portal login, and the payer has none. The message says
    only that; how to invite them (a key, a command) is for the screen or the CLI to say."""

    def __init__(self, payer_name: str) -> None:
        super().__init__(f"{payer_name} has no login.")
        self.payer_name = payer_name


class ConcurrentGrant(AccessStateError):
    """Another session gave the same address a login at the same moment; nothing was changed
    by this one, and the payer as stored now may already have access."""

    def __init__(self) -> None:
        super().__init__(
            "Another session granted access to this address at the same moment; "
            "nothing was changed."
        )


class RetryRefusal(StrEnum):
    """Why a failed email cannot be queued again."""

    PAYER_DELETED = "payer-deleted"
    LOGIN_DELETED = "login-deleted"
    LOGIN_MOVED = "login-moved"
    CANCELLED = "cancelled"
    PASSWORD_SET = "password-set"  # noqa: S105 (a reason, not a password)
    """A welcome, but the payer has set a password since: a reset is what they need."""
    NOT_ACCEPTED = "not-accepted"
    """A reset, but the payer has not accepted the invitation: re-send the welcome."""


class RetryRefused(AccessStateError):
    """A failed email cannot go again; nothing was changed. :attr:`kind` says why; the
    message says what happened, and the screen adds what to do instead."""

    def __init__(self, kind: RetryRefusal, to_address: str, moved_to: str | None = None) -> None:
        what = {
            RetryRefusal.PAYER_DELETED: "The payer this email was for was deleted",
            RetryRefusal.LOGIN_DELETED: f"The login of {to_address} was deleted",
            RetryRefusal.LOGIN_MOVED: f"The login moved from {to_address} to {moved_to}",
            RetryRefusal.CANCELLED: "This email was cancelled and its link no longer works",
            RetryRefusal.PASSWORD_SET: f"{to_address} has set a password since this email failed",
            RetryRefusal.NOT_ACCEPTED: f"{to_address} has not accepted the invitation yet",
        }[kind]
        super().__init__(f"{what}, so this email cannot be retried.")
        self.kind = kind
        self.to_address = to_address
        self.moved_to = moved_to


class EmailChangeNeedsLoginMove(ClientPayError):
    """Saving a changed email on a payer with a login must move the login explicitly."""

    def __init__(self, old: str, new: str) -> None:
        super().__init__(
            f"This payer signs in as {old}. Changing the email breaks that login unless it "
            f"moves: the old login is revoked, {new} gets a new welcome email and {old} is "
            "told of the change."
        )
        self.old = old
        self.new = new


class RecentlySent(ClientPayError):
    """An email went to this payer moments ago; sending another needs a second confirmation."""

    def __init__(self, last_sent: datetime, seconds_ago: int) -> None:
        super().__init__(
            f"An email went to this payer {seconds_ago} s ago (at {last_sent:%H:%M:%S} UTC)."
        )
        self.last_sent = last_sent
        self.seconds_ago = seconds_ago


class RateLimited(ClientPayError):
    """Too many welcome or reset emails to one payer in the window."""


class AuthenticationFailed(ClientPayError):
    """Wrong username or password, or an account that may not sign in."""


class AccountLocked(AuthenticationFailed):
    """Too many failed sign-ins; the account is locked for a while."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"Too many failed sign-ins. Try again after {until:%H:%M} UTC.")
        self.until = until


class ImportFailed(ClientPayError):
    """A CSV file could not be imported; the message names the line."""


class InvalidLink(ClientPayError):
    """A welcome or reset link that cannot be used.

    The message is the same whatever the cause (unknown, altered, expired, used, replaced by a
    newer link, or meant for the other form), so a link's holder learns nothing from it; the
    cause is kept in :attr:`reason` for the audit log only.
    """

    MESSAGE = "This link is not valid any more. Ask for a new one."

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGE)
        self.reason = reason


class PaymentError(ClientPayError):
    """A payment or a payment method could not be used; the message says why, never a number."""


class PaymentsUnavailable(PaymentError):
    """No payment gateway is configured (``payment_gateway = "none"``)."""


class PaymentDeclined(PaymentError):
    """The gateway refused the method or the charge for good."""


class PaymentFailed(PaymentError):
    """The gateway had an error; nothing was charged and the payer may try again."""


class ExportFailed(ClientPayError):
    """A report could not be written (a bad path, a full disk)."""
