"""How dates, money and login states read on screen (UTC, like every time the app shows).

Everything returned is plain text or ``rich.text.Text`` built from literal values.
"""

from __future__ import annotations

from datetime import date, datetime

from rich.text import Text

from clientpay_tui.services.payer_status import welcome_link_dead
from clientpay_tui.services.payers import AccessStatus, EmailSummary, PayerDetail
from clientpay_tui.text import one_line, plural, printable

EMAIL_KINDS = {
    "welcome": "Welcome email",
    "reset": "Password reset",
    "access_added": "Access notice",
    "password_changed": "Password changed",
    "login_moved": "Login moved notice",
    "receipt": "Payment receipt",
    "invite_reminder": "Invitation reminder",
}


def day(value: date | datetime | None) -> str:
    """``2026-03-02``: one format for every date the app shows, the one :func:`stamp` and
    the date filters use (a screen mixing ``2 Mar 2026`` and ``2026-03-02`` reads as two
    kinds of date)."""
    return f"{value:%Y-%m-%d}" if value else ""


def stamp(value: datetime | None) -> str:
    """``2026-03-02 09:30`` (UTC)."""
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def only_invited(detail: PayerDetail) -> bool:
    """The payer has a login but never accepted the invitation: "reset" re-sends the welcome
    email (also when that email failed, or the login is locked)."""
    return detail.login is not None and detail.login.accepted_at is None


def access_summary(detail: PayerDetail, now: datetime) -> Text:
    """The status line next to the Login Access switch."""
    login = detail.login
    status = detail.status
    if login is None:
        if detail.email:
            return Text("None: switch on to invite the payer by email.")
        return Text("None: add an email address to invite the payer.")
    if status == AccessStatus.LOCKED and login.locked_until:
        text = Text(f"Locked until {stamp(login.locked_until)} UTC (failed sign-ins)")
    elif status == AccessStatus.EMAIL_FAILED and detail.last_email is not None:
        text = Text(f"Email failed: {one_line(detail.last_email.last_error or 'unknown', 80)}")
    elif status == AccessStatus.INVITED:
        text = Text(f"Invited on {day(login.invited_at)}")
        expires = login.welcome_expires_at
        if expires is None:
            text.append(", no valid link: re-send the welcome email")
        elif welcome_link_dead(expires, now):  # what the list's "Invite expired" finds
            text.append(f", link expired {day(expires)}")
        else:
            text.append(f", expires {day(expires)}")
    else:
        last = stamp(login.last_sign_in_at)
        text = Text(f"Active, last sign-in {last} UTC" if last else "Active, never signed in")
    if login.other_payers:
        text.append(f" · shared with {plural(login.other_payers, 'other record')}")
    if detail.mfa_exempt:
        text.append(" · MFA exempt")
    return text


def last_email_line(email: EmailSummary | None, current_address: str | None) -> Text:
    """``Welcome email sent 2026-03-02 09:30`` (and to whom, if not the payer's address)."""
    if email is None:
        return Text("No access email sent yet.")
    kind = EMAIL_KINDS.get(email.kind.value, "Email")
    when = stamp(email.sent_at) if email.sent_at else stamp(email.created_at)
    line = Text(f"{kind} {email.status.value} {when} UTC")
    if email.to_address != current_address:
        line.append(f" to {printable(email.to_address)}")
    return line
