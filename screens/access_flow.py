"""The Login Access flows of the payer details screen: grant, delete, reset / re-send, unlock,
saving an email change that moves the login. Each asks first, saying what will happen and to
whom, then calls the service in a thread.

The services make the decisions (permissions, the 60-second re-send window, the rate limit,
stale edits); these flows turn their answers into dialogs: a recent email asks again, the rate
limit explains why not, an email change offers to move the login.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from clientpay_tui.enums import EmailKind
from clientpay_tui.errors import (
    EmailChangeNeedsLoginMove,
    RateLimited,
    RecentlySent,
    StaleEdit,
    ValidationFailed,
)
from clientpay_tui.screens.base import Severity, call
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_info import PayerInfoPane
from clientpay_tui.screens.session import StaffSession
from clientpay_tui.screens.wording import no_login
from clientpay_tui.services.access_emails import EmailQueued
from clientpay_tui.services.payers import PayerDetail
from clientpay_tui.text import plural
from clientpay_tui.widgets.formatting import only_invited, stamp


class PayerHost(Protocol):
    """What a flow needs from the screen that runs it: the payer shown, the fields, a way to
    ask and to tell, and a reload. The payer details screen is one; the flows never import
    it (an import-linter contract keeps it so), so a test can drive them with a small host."""

    @property
    def detail(self) -> PayerDetail:
        """The payer as the screen last loaded it."""

    @property
    def session(self) -> StaffSession: ...

    @property
    def info(self) -> PayerInfoPane:
        """The Payer Information fields (edits, baseline version, error line)."""

    async def ask(self, dialog: ConfirmScreen) -> bool:
        """Show ``dialog`` and wait for the answer."""

    def toast(self, message: object, severity: Severity = "information") -> None: ...

    async def reload(
        self, *, discard_edits: bool = False, detail: PayerDetail | None = None
    ) -> None:
        """Show the payer as stored now (``detail`` if given)."""


QUEUED_TOAST = {
    EmailKind.WELCOME: "Welcome email to {to} queued.",
    EmailKind.RESET: "Password reset email to {to} queued.",
    EmailKind.ACCESS_ADDED: "{to} already had a portal login: this payer was added to it "
    "and a notice queued.",
}


async def _send(
    screen: PayerHost, send: Callable[[bool], EmailQueued], what: str
) -> EmailQueued | None:
    """Run ``send``; if an email went out moments ago, ask again; if the limit is reached,
    say why not. Returns what was queued, or ``None`` if nothing was."""
    try:
        return await call(send, False)
    except RecentlySent as recent:
        again = await screen.ask(
            ConfirmScreen(
                "An email was sent moments ago",
                f"{recent} Send {what} anyway?",
                confirm="Send again",
                cancel="Don't send",
            )
        )
        if not again:
            return None
        try:
            return await call(send, True)
        except RateLimited as limited:
            await _explain_limit(screen, limited)
    except RateLimited as limited:
        await _explain_limit(screen, limited)
    return None


async def _explain_limit(screen: PayerHost, limited: RateLimited) -> None:
    await screen.ask(ConfirmScreen("No email sent", f"{limited}", confirm=None, cancel="Close"))


def _queued(screen: PayerHost, queued: EmailQueued) -> None:
    screen.session.poke_mailer()
    template = QUEUED_TOAST.get(queued.kind, "Email to {to} queued.")
    screen.toast(template.format(to=queued.to_address))


async def grant(screen: PayerHost) -> None:
    """Switch Login Access on: confirm naming the address, then grant and queue the email."""
    detail = screen.detail
    if screen.info.email_edited():
        screen.toast("Save or undo the email change before granting access.", "warning")
        return
    if not detail.email:
        screen.toast("Add an email address and save before granting access.", "warning")
        return
    days = screen.session.services.settings.welcome_token_days
    ok = await screen.ask(
        ConfirmScreen(
            "Grant login access",
            f"Send a welcome email to {detail.email} for {detail.name}?\n\n"
            f"It holds a single-use link (valid {plural(days, 'day')}) to create their own "
            "password. "
            "If the address already has a portal login, this payer is added to it instead.",
            confirm="Grant access",
        )
    )
    if not ok:
        return
    services, actor = screen.session.services, screen.session.actor
    queued = await _send(
        screen,
        lambda confirmed: services.access.grant(actor, detail.id, confirmed_resend=confirmed),
        f"a welcome email to {detail.email}",
    )
    if queued is not None:
        _queued(screen, queued)
    await screen.reload()


async def delete_login(screen: PayerHost) -> None:
    """Delete the payer's login (or detach this record from a shared one), after asking."""
    detail = screen.detail
    login = detail.login
    if login is None:
        screen.toast(f"{detail.name} has no login to delete.", "warning")
        return
    shared = (
        f"\n\nThe login also covers {plural(login.other_payers, 'other payer record')} with this "
        "address: it stays for them, only this record is removed from it."
        if login.other_payers
        else ""
    )
    ok = await screen.ask(
        ConfirmScreen(
            "Delete login",
            f"Delete the portal login of {detail.name} ({detail.email})?\n\n"
            "They can no longer sign in to see this record; unsent emails to them are "
            f"cancelled.{shared}",
            confirm="Delete login",
            cancel="Keep login",
            destructive=True,
        )
    )
    if not ok:
        return
    result = await call(
        screen.session.services.access.delete_login, screen.session.actor, detail.id
    )
    if result.login_removed:
        screen.toast(f"Deleted the login for {result.email}.")
    else:
        screen.toast(f"Removed this payer from the login {result.email}.")
    await screen.reload()


async def send_reset(screen: PayerHost) -> None:
    """Password reset, or re-send the welcome email while the payer is only invited."""
    detail = screen.detail
    if detail.login is None or not detail.email:
        screen.toast(no_login(detail.name), "warning")
        return
    settings = screen.session.services.settings
    if only_invited(detail):
        title, what = "Re-send welcome email", f"the welcome email again to {detail.email}"
        body = (
            f"Send the welcome email again to {detail.email}? A new link (valid "
            f"{plural(settings.welcome_token_days, 'day')}) replaces the one sent before."
        )
        confirm = "Re-send"
    else:
        title, what = "Password reset", f"a password reset email to {detail.email}"
        body = (
            f"Send a password reset email to {detail.email} for {detail.name}? The link is "
            f"valid for {plural(settings.reset_token_hours, 'hour')}. Their current password keeps "
            "working until they set a new one."
        )
        confirm = "Send reset"
    if not await screen.ask(ConfirmScreen(title, body, confirm=confirm)):
        return
    services, actor = screen.session.services, screen.session.actor
    queued = await _send(
        screen,
        lambda confirmed: services.access.send_reset(actor, detail.id, confirmed_resend=confirmed),
        what,
    )
    if queued is not None:
        _queued(screen, queued)
    await screen.reload()


async def unlock(screen: PayerHost) -> None:
    """Lift the lock that failed portal sign-ins put on the payer's login, after asking."""
    detail = screen.detail
    if detail.login is None or detail.login.locked_until is None:
        screen.toast(f"The login of {detail.name} is not locked.", "warning")
        return
    ok = await screen.ask(
        ConfirmScreen(
            "Unlock login",
            f"Unlock the portal login of {detail.name} ({detail.email})? It was locked after "
            f"failed sign-ins until {stamp(detail.login.locked_until)} UTC; they can sign in "
            "again at once.",
            confirm="Unlock",
            cancel="Keep locked",
        )
    )
    if not ok:
        return
    email = await call(screen.session.services.access.unlock_login, screen.session.actor, detail.id)
    screen.toast(f"Unlocked the login for {email}.")
    await screen.reload()


async def save(screen: PayerHost) -> None:
    """Save the edited fields; an email change on a payer with a login offers to move it."""
    info = screen.info
    if not info.is_dirty():
        screen.toast("Nothing to save.")
        return
    services, actor = screen.session.services, screen.session.actor
    form, version = info.form(), info.baseline.version
    payer_id = info.baseline.id
    try:
        try:
            detail = await call(services.payers.update, actor, payer_id, version, form)
        except EmailChangeNeedsLoginMove as change:
            move = await screen.ask(
                ConfirmScreen(
                    "Move the login to the new address?",
                    f"{change}\n\nMove the login now, or cancel and keep editing.",
                    confirm="Save and move login",
                    cancel="Cancel",
                    destructive=True,
                )
            )
            if not move:
                return
            detail = await call(
                services.payers.update, actor, payer_id, version, form, move_login=True
            )
            screen.session.poke_mailer()
            screen.toast(
                f"Saved. The login moved to {detail.email}; welcome email queued, and "
                f"{change.old} is told of the change."
            )
        else:
            screen.toast("Saved.")
    except ValidationFailed as invalid:
        info.show_error(str(invalid))
        screen.toast(invalid, "error")
        return
    except RateLimited as limited:
        await _explain_limit(screen, limited)
        return
    except StaleEdit as stale:
        reload = await screen.ask(
            ConfirmScreen(
                "Someone else changed this payer",
                f"{stale}\n\nReload discards your edits and shows theirs. Keep editing to "
                "copy what you typed first.",
                confirm="Reload",
                cancel="Keep editing",
                destructive=True,
            )
        )
        if reload:
            await screen.reload(discard_edits=True)
        return
    info.show_error(None)
    await screen.reload(discard_edits=True, detail=detail)
