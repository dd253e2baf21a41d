"""``/``: the signed-in payer's home. A placeholder until the home page (invoices a page at a
time, payable or not) lands; sign-in needs somewhere to arrive."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientpay_tui.portal.web.pages import render, require_payer


async def home(request: Request) -> Response:
    _session, identity = await require_payer(request)
    return await render(request, "home.html", identity=identity)


ROUTES = [Route("/", home, methods=["GET"])]
