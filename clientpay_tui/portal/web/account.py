"""``/account``: a signed-in payer changes their password.

A change ends every session of the login, this one included, and signs this browser in again
with a new session id.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientpay_tui.db.models import WebStage
from clientpay_tui.errors import RateLimited, ValidationFailed
from clientpay_tui.portal import limits
from clientpay_tui.portal.web.pages import (
    call,
    checked_form,
    portal,
    render,
    require_payer,
    switch_session,
    text_field,
)

CHANGED = "Your password was changed. You are signed out everywhere else."


async def account_page(request: Request) -> Response:
    _session, identity = await require_payer(request)
    return await render(request, "account.html", identity=identity, error=None, notice=None)


async def change_password(request: Request) -> Response:
    form = await checked_form(request)
    _session, identity = await require_payer(request)
    the_portal = portal(request)
    try:
        await call(
            the_portal.limits.hit,
            limits.account_bucket(limits.PASSWORD_CHANGE_ACCOUNT, identity.login_id),
        )
        await call(
            the_portal.passwords.change,
            identity.login_id,
            text_field(form, "current_password"),
            text_field(form, "password"),
            text_field(form, "password_again"),
        )
    except (ValidationFailed, RateLimited) as error:
        status = 429 if isinstance(error, RateLimited) else 200
        return await render(
            request,
            "account.html",
            status_code=status,
            identity=identity,
            error=str(error),
            notice=None,
        )
    # Every session of the login ended with the change: this browser gets a new one.
    request.state.web_session = None
    await switch_session(request, WebStage.SIGNED_IN, login_id=identity.login_id)
    return await render(request, "account.html", identity=identity, error=None, notice=CHANGED)


ROUTES = [
    Route("/account", account_page, methods=["GET"]),
    Route("/account", change_password, methods=["POST"]),
]
