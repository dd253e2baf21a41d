"""``/welcome?token=…`` and ``/reset?token=…``, then ``/set-password``.

Django's ``PasswordResetConfirmView`` pattern: the first request exchanges the token at once
for server-side state (a new session holding the token's SHA-256 and purpose) and answers 303
to ``/set-password``, so the token leaves the address bar, the history and any ``Referer``.
Every link, valid or not, gets that same redirect; ``/set-password`` then shows the password
form, or, for a used, expired, revoked or altered link, one friendly page with a "send me a
new link" form (which posts to ``/forgot``, with its limits and its one answer). A browser
signed in stays signed in when the link it opens is not valid.

A browser already signed in to another login is not switched by merely opening a link: anyone
can mail or post a link of their own account, and whoever followed it would be signed out and
then, setting "their" password, signed in to the sender's account (login CSRF: a card saved
there is the sender's to use). The link's page names both accounts and asks; continuing is a
form posted with the session's CSRF token.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientpay_tui.db.models import TokenPurpose, WebStage
from clientpay_tui.errors import InvalidLink, RateLimited, ValidationFailed
from clientpay_tui.portal import limits
from clientpay_tui.portal.sessions import WebSession
from clientpay_tui.portal.web.pages import (
    call,
    checked_form,
    client_ip,
    portal,
    redirect,
    render,
    session_of,
    switch_session,
    text_field,
)
from clientpay_tui.services.tokens import hash_token


async def _exchange(request: Request, purpose: TokenPurpose) -> Response:
    """Exchange the link's token for a link session: from the link itself (GET), or from the
    "continue" form of :func:`_other_account` (POST, with the session's CSRF token)."""
    confirmed = request.method == "POST"
    if confirmed:
        token = text_field(await checked_form(request), "token", 200)
    else:
        token = request.query_params.get("token", "")[:200]
    the_portal = portal(request)
    try:
        await call(the_portal.limits.hit, limits.ip_bucket(limits.LINK_IP, client_ip(request)))
    except RateLimited as error:
        return await render(
            request, "refused.html", status_code=429, has_form=False, message=str(error)
        )
    try:
        info = await call(the_portal.links.open_link, token, purpose)
    except InvalidLink:
        current = await session_of(request)
        if current is None or current.stage != WebStage.SIGNED_IN:
            # Whatever an earlier link left in this browser must not answer for this one.
            await switch_session(request, WebStage.ANONYMOUS)
        # A signed-in payer who opens an old email's link (a used welcome link is the way
        # back to the portal for many) stays signed in: the page says so.
        return redirect(request, "/set-password")
    current = await session_of(request)
    if (
        not confirmed
        and current is not None
        and current.stage == WebStage.SIGNED_IN
        and current.login_id != info.login_id
    ):
        return await _other_account(request, current, token, info.email, purpose)
    await switch_session(
        request, WebStage.LINK, link_token_hash=hash_token(token), link_purpose=purpose
    )
    return redirect(request, "/set-password")


async def _other_account(
    request: Request, current: WebSession, token: str, email: str, purpose: TokenPurpose
) -> Response:
    """The page of a link opened in a browser signed in to another login."""
    signed_in = current.identity
    if signed_in is None and current.login_id is not None:
        signed_in = await call(portal(request).sessions.identity, current.login_id)
    return await render(
        request,
        "link_other_account.html",
        signed_in_email=signed_in.email if signed_in is not None else "",
        link_email=email,
        token=token,
        action="/welcome" if purpose == TokenPurpose.WELCOME else "/reset",
    )


async def welcome(request: Request) -> Response:
    return await _exchange(request, TokenPurpose.WELCOME)


async def reset(request: Request) -> Response:
    return await _exchange(request, TokenPurpose.RESET)


async def _invalid(request: Request, status_code: int = 200) -> Response:
    return await render(
        request, "link_invalid.html", status_code=status_code, email="", error=None, notice=None
    )


async def _link_of(request: Request) -> tuple[str, TokenPurpose] | None:
    """The exchanged link this browser's session holds (its token hash and purpose), if any."""
    current = await session_of(request)
    if (
        current is None
        or current.stage != WebStage.LINK
        or current.link_token_hash is None
        or current.link_purpose is None
    ):
        return None
    return current.link_token_hash, current.link_purpose


async def set_password_page(request: Request) -> Response:
    link = await _link_of(request)
    if link is None:
        return await _invalid(request)
    token_hash, purpose = link
    try:
        info = await call(portal(request).links.open_digest, token_hash, purpose)
    except InvalidLink:
        return await _invalid(request)
    return await _form(request, info.email, purpose, None)


async def _form(request: Request, email: str, purpose: TokenPurpose, error: str | None) -> Response:
    return await render(
        request,
        "set_password.html",
        email=email,
        welcome=purpose == TokenPurpose.WELCOME,
        error=error,
        notice=None,
    )


async def set_password(request: Request) -> Response:
    form = await checked_form(request)
    link = await _link_of(request)
    if link is None:
        return await _invalid(request)
    token_hash, purpose = link
    the_portal = portal(request)
    try:
        identity = await call(
            the_portal.links.set_password_digest,
            token_hash,
            purpose,
            text_field(form, "password"),
            text_field(form, "password_again"),
        )
    except InvalidLink:
        return await _invalid(request)
    except ValidationFailed as error:
        try:
            info = await call(the_portal.links.open_digest, token_hash, purpose)
        except InvalidLink:
            return await _invalid(request)
        return await _form(request, info.email, purpose, str(error))
    # The link proved the payer reads the login's mailbox: no emailed code on top.
    await switch_session(request, WebStage.SIGNED_IN, login_id=identity.login_id)
    return redirect(request, "/")


ROUTES = [
    Route("/welcome", welcome, methods=["GET", "POST"]),
    Route("/reset", reset, methods=["GET", "POST"]),
    Route("/set-password", set_password_page, methods=["GET"]),
    Route("/set-password", set_password, methods=["POST"]),
]
