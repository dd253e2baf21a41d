"""Render the portal's emails (text and HTML) from Jinja2 templates inside the package.

HTML is autoescaped, so a payer called ``<script>`` is shown, not run. Headers are not built
here: the sender builds them with :mod:`email` from the outbox row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from clientpay_tui.db.models import EmailKind
from clientpay_tui.text import clean_text

if TYPE_CHECKING:
    from jinja2 import Environment

SUBJECTS: dict[EmailKind, str] = {
    EmailKind.WELCOME: "{firm}: create your password for the payment portal",
    EmailKind.RESET: "{firm}: reset your payment portal password",
    EmailKind.ACCESS_ADDED: "{firm}: more is now shown in your payment portal",
    EmailKind.PASSWORD_CHANGED: "{firm}: your payment portal password was changed",
    EmailKind.LOGIN_MOVED: "{firm}: your payment portal login was moved",
    EmailKind.RECEIPT: "{firm}: receipt for your payment",
    EmailKind.SIGN_IN_CODE: "{firm}: your payment portal sign-in code",
    EmailKind.INVITE_REMINDER: "Reminder: {firm} invited you to the payment portal",
}


@dataclass(frozen=True)
class ComposedEmail:
    kind: EmailKind
    subject: str
    text: str
    html: str


@cache
def _environment() -> Environment:
    # Imported on the first email, not at start-up (Jinja2 is ~10 ms of every start).
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("clientpay_tui.mail", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def compose(
    kind: EmailKind,
    *,
    firm_name: str,
    payer_name: str,
    portal_url: str,
    link: str | None = None,
    expires_at: datetime | None = None,
    added: str | None = None,
    changed_at: datetime | None = None,
    login_kept: bool = False,
    receipt: Mapping[str, object] | None = None,
    code: str | None = None,
    invited_at: datetime | None = None,
) -> ComposedEmail:
    """Render one email.

    Args:
        kind: which email.
        firm_name: the sending firm, from settings.
        payer_name: greeting name; control characters are removed.
        portal_url: the portal's sign-in page.
        link: the single-use welcome or reset link (welcome and reset only).
        expires_at: when ``link`` stops working.
        added: for ``access_added``, the payer record now covered by the login.
        changed_at: for ``login_moved``, when staff moved the login away from the address.
        login_kept: for ``login_moved``, the address still signs in for other records.
        receipt: for ``receipt``, the payment (amount, method, invoices as (number, amount)
            pairs, reference, when, transaction_id, test_mode).
        code: for ``sign_in_code``, the 6-digit code (valid until ``expires_at``).
        invited_at: for ``invite_reminder``, when the invitation it reminds of went out.
    """
    values = {
        "firm_name": clean_text(firm_name),
        "payer_name": clean_text(payer_name),
        "portal_url": portal_url,
        "login_url": f"{portal_url}/login",
        "link": link,
        "expires_at": expires_at.strftime("%d %b %Y %H:%M UTC") if expires_at else None,
        "added": clean_text(added) if added else None,
        "changed_at": changed_at.strftime("%d %b %Y %H:%M UTC") if changed_at else None,
        "login_kept": login_kept,
        "receipt": receipt,
        "code": code,
        "invited_at": invited_at.strftime("%d %b %Y") if invited_at else None,
    }
    env = _environment()
    text = env.get_template(f"{kind.value}.txt").render(values)
    html = env.get_template(f"{kind.value}.html").render(values)
    subject = clean_text(SUBJECTS[kind].format(firm=values["firm_name"]))
    return ComposedEmail(kind=kind, subject=subject, text=text, html=html)
