"""The portal's ASGI app: routes from one module per page group, the shared state, the
middleware and the answers to refused requests.

Adding a page group: write ``<group>.py`` with async route functions and a ``ROUTES`` list of
:class:`starlette.routing.Route`, templates that ``{% extends "base.html" %}``, and add the
module to :data:`ROUTE_MODULES`. Routes use :mod:`~clientpay_tui.portal.web.pages`:
``render``, ``redirect``, ``checked_form`` (CSRF), ``require_payer``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from clientpay_tui.config import Settings
from clientpay_tui.errors import DatabaseError, RateLimited
from clientpay_tui.portal import Portal
from clientpay_tui.portal.common import RESPONSE_FLOOR_SECONDS
from clientpay_tui.portal.web.pages import (
    CsrfRefused,
    PortalWeb,
    SignInRequired,
    redirect,
    render,
)
from clientpay_tui.portal.web.security import BodyLimit, ForwardedHeaders, SecurityHeaders
from clientpay_tui.services.facade import Services

ROUTE_MODULES: Sequence[str] = (
    "clientpay_tui.portal.web.home",
    "clientpay_tui.portal.web.signin",
    "clientpay_tui.portal.web.links",
    "clientpay_tui.portal.web.account",
    "clientpay_tui.portal.web.pay",
    "clientpay_tui.portal.web.wallets",
)
"""Each module's ``ROUTES`` are served; add a page group's module here."""


def templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader("clientpay_tui.portal.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        auto_reload=False,  # templates are package data: no stat() of three files per page
    )
    return Jinja2Templates(env=env)


def routes(extra_modules: Sequence[str] = ()) -> list[BaseRoute]:
    found: list[BaseRoute] = []
    for name in (*ROUTE_MODULES, *extra_modules):
        found.extend(importlib.import_module(name).ROUTES)
    found.append(
        Mount(
            "/static", StaticFiles(packages=[("clientpay_tui.portal.web", "static")]), name="static"
        )
    )
    return found


async def _sign_in_required(request: Request, _exc: Exception) -> Response:
    return redirect(request, "/login")


async def _csrf_refused(request: Request, exc: Exception) -> Response:
    return await render(request, "refused.html", status_code=403, has_form=False, message=str(exc))


async def _rate_limited(request: Request, exc: Exception) -> Response:
    return await render(request, "refused.html", status_code=429, has_form=False, message=str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    # The database is unreachable or locked: say so in one line, never a traceback.
    message = "The portal cannot reach its records just now. Please try again in a minute."
    return await _plain_page(request, message, 503)


async def _plain_page(request: Request, message: str, status_code: int) -> Response:
    try:
        return await render(
            request, "refused.html", status_code=status_code, has_form=False, message=message
        )
    except DatabaseError:  # no session to render with: answer without one
        state = request.app.state.web
        return state.templates.TemplateResponse(
            request,
            "refused.html",
            {"message": message, "firm_name": state.settings.firm_name, "signed_in": False},
            status_code=status_code,
        )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = "This page does not exist." if exc.status_code == 404 else "That did not work."
    return await _plain_page(request, message, exc.status_code)


class PortalApp(Starlette):
    """Starlette with ``edge`` middleware outside its own error handling.

    Starlette answers an unhandled exception (500) from ``ServerErrorMiddleware``, which it
    always puts outside the ``middleware`` it is given, so headers added there would be missing
    from that answer. Middleware in ``edge`` wraps the whole stack and sees every response.
    """

    def __init__(self, *, edge: Sequence[Middleware], **kwargs: Any) -> None:
        self.edge = list(edge)
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        for cls, args, kwargs in reversed(self.edge):
            app = cls(app, *args, **kwargs)
        return app


def create_app(
    services: Services,
    settings: Settings | None = None,
    *,
    floor_seconds: float = RESPONSE_FLOOR_SECONDS,
    extra_route_modules: Sequence[str] = (),
    **_reserved: Any,
) -> Starlette:
    """The portal app on ``services``' database, settings and clock.

    Args:
        services: the app's services (one per process; its clock is the sessions' clock).
        settings: defaults to ``services.settings``.
        floor_seconds: least time of a sign-in or reset request (tests pass 0).
        extra_route_modules: more page-group modules (each with ``ROUTES``).
    """
    settings = settings or services.settings
    state = PortalWeb(
        portal=Portal(services, floor_seconds=floor_seconds),
        settings=settings,
        templates=templates(),
        https=settings.portal_url.startswith("https://"),
    )
    app = PortalApp(
        routes=routes(extra_route_modules),
        # Outside Starlette's 500 handling: an unhandled error's answer carries the headers too
        # (ForwardedHeaders first: HSTS follows the scheme a trusted proxy reports).
        edge=[
            Middleware(ForwardedHeaders, trusted=settings.trusted_proxies),
            Middleware(SecurityHeaders, https=state.https),
        ],
        middleware=[Middleware(BodyLimit)],
        exception_handlers={
            SignInRequired: _sign_in_required,
            CsrfRefused: _csrf_refused,
            RateLimited: _rate_limited,
            HTTPException: _http_error,
            DatabaseError: _unavailable,
        },
    )
    app.state.web = state
    return app
