"""``/login``, ``/mfa``, ``/logout`` and ``/forgot``: signing in and asking for a new link.

Sign-in and ``/forgot`` answer the same for every address (the account functions see to that)
and are rate-limited per IP address and per address typed. A good password starts a new
session id: signed in, or waiting for the emailed code when ``portal_mfa = "email"``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientpay_tui.db.models import WebStage
from clientpay_tui.errors import AuthenticationFailed, RateLimited, ValidationFailed
from clientpay_tui.portal import limits
from clientpay_tui.portal.web.pages import (
    adopt_session,
    call,
    checked_form,
    client_ip,
    end_session,
    portal,
    redirect,
    render,
    session_of,
    switch_session,
    text_field,
)


async def login_page(request: Request) -> Response:
    current = await session_of(request)
    if current is not None and current.stage == WebStage.SIGNED_IN:
        return redirect(request, "/")
    return await render(request, "login.html", email="", error=None, notice=None)


async def login(request: Request) -> Response:
    form = await checked_form(request)
    email = text_field(form, "email", 320)
    password = text_field(form, "password", 1000)
    the_portal = portal(request)
    try:
        await call(
            the_portal.limits.hit,
            limits.ip_bucket(limits.SIGN_IN_IP, client_ip(request)),
            limits.account_bucket(limits.SIGN_IN_ACCOUNT, email),
        )
        identity = await call(the_portal.accounts.authenticate, email, password)
    except (AuthenticationFailed, RateLimited) as error:
        status = 429 if isinstance(error, RateLimited) else 200
        return await render(
            request, "login.html", status_code=status, email=email, error=str(error), notice=None
        )
    current = await session_of(request)
    if await call(the_portal.mfa.required, identity.login_id):
        raw, new = await call(
            the_portal.mfa.send_code, identity.login_id, current.id if current else None
        )
        adopt_session(request, raw, new)
        return redirect(request, "/mfa")
    await switch_session(request, WebStage.SIGNED_IN, login_id=identity.login_id)
    return redirect(request, "/")


async def mfa_page(request: Request) -> Response:
    current = await session_of(request)
    if current is None or current.stage != WebStage.MFA:
        return redirect(request, "/login")
    return await render(request, "mfa.html", error=None, notice=None)


async def mfa(request: Request) -> Response:
    form = await checked_form(request)
    current = await session_of(request)
    if current is None or current.stage != WebStage.MFA or current.login_id is None:
        return redirect(request, "/login")
    the_portal = portal(request)
    try:
        await call(
            the_portal.limits.hit,
            limits.ip_bucket(limits.MFA_IP, client_ip(request)),
            limits.account_bucket(limits.MFA_ACCOUNT, current.login_id),
        )
        identity = await call(the_portal.mfa.verify, current.id, text_field(form, "code", 20))
    except (ValidationFailed, RateLimited) as error:
        status = 429 if isinstance(error, RateLimited) else 200
        return await render(request, "mfa.html", status_code=status, error=str(error), notice=None)
    except AuthenticationFailed as error:
        await end_session(request)
        return await render(request, "login.html", email="", error=str(error), notice=None)
    await switch_session(request, WebStage.SIGNED_IN, login_id=identity.login_id)
    return redirect(request, "/")


async def logout(request: Request) -> Response:
    await checked_form(request)
    await end_session(request)
    return redirect(request, "/login")


async def forgot_page(request: Request) -> Response:
    return await render(request, "forgot.html", email="", error=None, notice=None)


async def forgot(request: Request) -> Response:
    """Also the target of the "send me a new link" form on the invalid-link page."""
    form = await checked_form(request)
    email = text_field(form, "email", 320)
    the_portal = portal(request)
    try:
        await call(
            the_portal.limits.hit,
            limits.ip_bucket(limits.FORGOT_IP, client_ip(request)),
            limits.account_bucket(limits.FORGOT_ACCOUNT, email),
        )
        notice = await call(the_portal.accounts.request_reset, email)
    except (ValidationFailed, RateLimited) as error:
        status = 429 if isinstance(error, RateLimited) else 200
        return await render(
            request, "forgot.html", status_code=status, email=email, error=str(error), notice=None
        )
    return await render(request, "forgot.html", email="", error=None, notice=notice)


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/mfa", mfa_page, methods=["GET"]),
    Route("/mfa", mfa, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/forgot", forgot_page, methods=["GET"]),
    Route("/forgot", forgot, methods=["POST"]),
]
