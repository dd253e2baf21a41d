"""What the screens say about a service's error: what happened (the error's own message) and,
where there is one, what the staff member can do next here, naming the key.

The services raise errors that say what happened and carry the facts (a kind, a name, an
address); they never name a key or a command. The command line words the same errors for its
user (``clientpay_tui/cli``).
"""

from __future__ import annotations

from clientpay_tui.errors import (
    ClientPayError,
    ConcurrentGrant,
    NoLogin,
    RetryRefusal,
    RetryRefused,
)

RETRY_INSTEAD = {
    RetryRefusal.LOGIN_DELETED: "Open the payer and switch Login Access on (l) to invite them "
    "again.",
    RetryRefusal.LOGIN_MOVED: "Open the payer to send a new one to the new address.",
    RetryRefusal.CANCELLED: "Open the payer to send a new one.",
    RetryRefusal.PASSWORD_SET: "Open the payer and press r to send a password reset instead.",
    RetryRefusal.NOT_ACCEPTED: "Open the payer and press r to re-send the welcome email instead.",
}
"""After a refused retry on the Mail screen: what to do instead (nothing, if the payer is gone)."""


def no_login(payer_name: str) -> str:
    """A login action on a payer without a login (the key's reason, and the service's)."""
    return f"{payer_name} has no login: switch Login Access on (l) to invite them."


def explain(error: ClientPayError) -> str:
    """``error`` as one line for a toast: its message, then what to do next, if anything."""
    if isinstance(error, NoLogin):
        return no_login(error.payer_name)
    if isinstance(error, ConcurrentGrant):
        return f"{error} The payer is shown as stored now."
    if isinstance(error, RetryRefused) and error.kind in RETRY_INSTEAD:
        return f"{error} {RETRY_INSTEAD[error.kind]}"
    return str(error)
