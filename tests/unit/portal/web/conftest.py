"""Fixtures for the web portal: the ASGI app on the test services, httpx clients, forms.

``web`` is an httpx client talking to the app in-process (no server), as the browser at
203.0.113.7 would, against ``https://portal.test`` (the ``settings`` fixture's portal URL).
``web_for(portal_url=…, client=…)`` builds others (plain http, another address, another app).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from clientpay_tui.config import Settings, load_settings
from clientpay_tui.portal.web import create_app
from clientpay_tui.services.facade import Services

CLIENT_IP = "203.0.113.7"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(response: httpx.Response) -> str:
    """The CSRF token in a page's forms."""
    found = _CSRF.search(response.text)
    assert found, response.text
    return found.group(1)


@pytest.fixture
def web_app(services: Services) -> Starlette:
    return create_app(services, floor_seconds=0)


@pytest.fixture
async def web_for(services: Services, clock) -> AsyncIterator[Callable[..., httpx.AsyncClient]]:
    """Make clients: ``web_for(portal_url="http://…", client=("10.0.0.1", 1), **settings)``."""
    made: list[httpx.AsyncClient] = []

    def make(
        *,
        app: Starlette | None = None,
        portal_url: str | None = None,
        client: tuple[str, int] = (CLIENT_IP, 50000),
        **overrides: Any,
    ) -> httpx.AsyncClient:
        settings = services.settings
        if portal_url is not None or overrides:
            settings = load_settings(
                **{
                    **services.settings.model_dump(),
                    "portal_url": portal_url or services.settings.portal_url,
                    **overrides,
                }
            )
        if app is None:
            app = create_app(Services(services.db, settings, clock), floor_seconds=0)
        base = settings.portal_url
        web = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=client), base_url=base
        )
        made.append(web)
        return web

    yield make
    for web in made:
        await web.aclose()


@pytest.fixture
async def web(web_for) -> httpx.AsyncClient:
    return web_for()


async def post_form(
    web: httpx.AsyncClient, page: str, action: str, data: dict[str, str], **kwargs: Any
) -> httpx.Response:
    """GET ``page`` for its CSRF token, then POST ``data`` with it to ``action``."""
    token = csrf_of(await web.get(page))
    return await web.post(action, data={"csrf_token": token, **data}, **kwargs)


async def sign_in(web: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await post_form(web, "/login", "/login", {"email": email, "password": password})


def portal_settings(services: Services, **overrides: Any) -> Settings:
    return load_settings(**{**services.settings.model_dump(), **overrides})


def without_csrf(html: str) -> str:
    """A page with its CSRF token blanked, to compare two answers."""
    return _CSRF.sub('name="csrf_token" value=""', html)


async def set_password(web: httpx.AsyncClient, link: str, password: str) -> httpx.Response:
    """Open a link (path and query), then submit ``password`` twice on its page."""
    opened = await web.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/set-password"
    return await post_form(
        web, "/set-password", "/set-password", {"password": password, "password_again": password}
    )
