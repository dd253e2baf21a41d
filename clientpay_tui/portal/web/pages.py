"""What every route uses: the session of the request, rendering with the base layout,
redirects, CSRF-checked forms, and requiring a signed-in payer.

Routes are ``async`` and run every database or argon2 call in Starlette's thread pool
(:func:`call`), so one slow sign-in never holds the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from clientpay_tui.config import Settings
from clientpay_tui.db.models import WebStage
from clientpay_tui.errors import ClientPayError
from clientpay_tui.portal import Portal, PortalIdentity
from clientpay_tui.portal.sessions import WebSession
from clientpay_tui.portal.web.security import client_address

P = ParamSpec("P")
T = TypeVar("T")

_UNSET: Any = object()
CSRF_FIELD = "csrf_token"
"""Name of the hidden field every form carries (see ``templates/_csrf.html``)."""


class CsrfRefused(ClientPayError):
    """A POST without the session's CSRF token (or without a session)."""


class SignInRequired(ClientPayError):
    """The page needs a signed-in payer; the route answers with a redirect to ``/login``."""


@dataclass
class PortalWeb:
    """What the app shares with its routes (``request.app.state.web``)."""

    portal: Portal
    settings: Settings
    templates: Jinja2Templates
    https: bool
    """The portal's URL is https: cookies are ``Secure`` with the ``__Host-`` prefix."""

    @property
    def cookie_name(self) -> str:
        return "__Host-clientpay_session" if self.https else "clientpay_session"


def web(request: Request) -> PortalWeb:
    state: PortalWeb = request.app.state.web
    return state


def portal(request: Request) -> Portal:
    return web(request).portal


async def call(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking service call (database, argon2) in the thread pool."""
    return await run_in_threadpool(functools.partial(fn, *args, **kwargs))


def client_ip(request: Request) -> str:
    """The client's address (a trusted proxy's ``X-Forwarded-For`` already applied)."""
    return client_address(request.scope)


# -- sessions ----------------------------------------------------------------------------


async def session_of(request: Request, *, create: bool = False) -> WebSession | None:
    """The request's live session; with ``create``, a new anonymous one when there is none
    (every page can carry a form, and a form needs a session for its CSRF token)."""
    current: WebSession | None = getattr(request.state, "web_session", _UNSET)
    if current is _UNSET:
        raw = request.cookies.get(web(request).cookie_name)
        current = await call(portal(request).sessions.load, raw)
        request.state.web_session = current
    if current is None and create:
        raw, current = await call(portal(request).sessions.start)
        request.state.web_session = current
        request.state.new_cookie = raw
    return current


async def switch_session(request: Request, stage: WebStage, **values: Any) -> WebSession:
    """Replace the request's session with a new id at ``stage`` (sign-in, link exchange):
    the old id stops working, so a planted or stolen pre-sign-in id is worthless."""
    current = await session_of(request)
    raw, new = await call(
        portal(request).sessions.start,
        stage,
        replaces=current.id if current is not None else None,
        **values,
    )
    adopt_session(request, raw, new)
    return new


def adopt_session(request: Request, raw: str, new: WebSession) -> None:
    """Make a session started elsewhere (e.g. by the MFA step) the request's, and send its
    cookie with the response."""
    request.state.web_session = new
    request.state.new_cookie = raw


async def end_session(request: Request) -> None:
    current = await session_of(request)
    if current is not None:
        await call(portal(request).sessions.end, current.id)
    request.state.web_session = None
    request.state.new_cookie = ""


def finish(request: Request, response: Response) -> Response:
    """Set (or clear) the session cookie on the way out."""
    raw = getattr(request.state, "new_cookie", None)
    if raw is None:
        return response
    state = web(request)
    if raw:
        response.set_cookie(
            state.cookie_name,
            raw,
            path="/",
            secure=state.https,
            httponly=True,
            samesite="lax",
        )
    else:
        response.delete_cookie(
            state.cookie_name, path="/", secure=state.https, httponly=True, samesite="lax"
        )
    return response


# -- responses ---------------------------------------------------------------------------


async def render(
    request: Request,
    template: str,
    *,
    status_code: int = 200,
    has_form: bool = True,
    **context: Any,
) -> Response:
    """Render ``template`` (which extends ``base.html``) with the session's CSRF token, the
    firm's name and whether someone is signed in.

    Args:
        has_form: the page has a form of its own, so a visitor without a session gets one
            (for its CSRF token). Error pages pass ``False``: a 404 starts no session.
    """
    current = await session_of(request, create=has_form)
    state = web(request)
    values = {
        "csrf_field": CSRF_FIELD,
        "csrf_token": current.csrf_secret if current is not None else "",
        "firm_name": state.settings.firm_name,
        "signed_in": current is not None and current.stage == WebStage.SIGNED_IN,
        **context,
    }
    response = state.templates.TemplateResponse(request, template, values, status_code=status_code)
    return finish(request, response)


def redirect(request: Request, path: str) -> Response:
    """303 See Other to a path of this portal (the answer to every successful POST)."""
    assert path.startswith("/") and not path.startswith("//")
    return finish(request, RedirectResponse(path, status_code=303))


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the session's.

    Raises:
        CsrfRefused: no session, or a missing or wrong token.
    """
    form = await request.form(max_files=0, max_fields=20)
    current = await session_of(request)
    token = form.get(CSRF_FIELD)
    if current is None or not current.csrf_ok(token if isinstance(token, str) else None):
        raise CsrfRefused("This form has expired. Go back, reload the page and try again.")
    return form


def text_field(form: FormData, name: str, limit: int = 1000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


async def require_payer(request: Request) -> tuple[WebSession, PortalIdentity]:
    """The signed-in payer's session and identity (re-read: records may have changed).

    Raises:
        SignInRequired: nobody is signed in, or the login is gone.
    """
    current = await session_of(request)
    if current is None or current.stage != WebStage.SIGNED_IN or current.login_id is None:
        raise SignInRequired("Sign in to see this page.")
    # Loading the session read the identity with it; a session started in this request did
    # not, and a login deleted since has none.
    identity = current.identity or await call(portal(request).sessions.identity, current.login_id)
    if identity is None:
        await end_session(request)
        raise SignInRequired("Sign in to see this page.")
    return current, identity
