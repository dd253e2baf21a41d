"""The README's reverse-proxy snippet, tested: the headers its nginx block sets are read from
the README itself and sent as nginx would (from 127.0.0.1, the snippet's trusted proxy, over
plain http), and the portal takes the client address and https from them; the same headers
from an untrusted peer change nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import PortalRateEvent
from tests.unit.portal.web.conftest import csrf_of

README = Path(__file__).resolve().parents[4] / "README.md"
CLIENT = "198.51.100.23"
"""The browser's address, as nginx sees it ($remote_addr)."""
NGINX_VARIABLES = {"$remote_addr": CLIENT, "$scheme": "https", "$host": "pay.smith.example"}


def snippet_headers() -> dict[str, str]:
    """``proxy_set_header`` lines of the README's nginx block, with nginx's variables filled."""
    block = re.search(r"```nginx\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block, "the README has no nginx snippet"
    headers = dict(re.findall(r"proxy_set_header\s+(\S+)\s+(\S+);", block.group(1)))
    assert {"X-Forwarded-For", "X-Forwarded-Proto"} <= set(headers), headers
    return {name: NGINX_VARIABLES[value] for name, value in headers.items()}


def test_the_snippet_sets_the_settings_it_documents() -> None:
    text = README.read_text(encoding="utf-8")
    assert "CLIENTPAY_TRUSTED_PROXIES='[\"127.0.0.1\"]'" in text
    assert "server 127.0.0.1:8000;" in text and "CLIENTPAY_PORTAL_PORT=8000" in text
    assert '"$request_method $uri"' in text  # nginx's log leaves query strings (tokens) out


async def _sign_in_attempt(web, headers: dict[str, str]) -> int:
    page = await web.get("/login", headers=headers)
    cookie = page.headers["set-cookie"]
    # The browser talks https to nginx, so it sends the Secure cookie back; httpx, talking
    # plain http here as nginx does, would not: pass it on by hand, as nginx does.
    assert cookie.startswith("__Host-clientpay_session=") and "secure" in cookie.lower()
    answer = await web.post(
        "/login",
        data={"csrf_token": csrf_of(page), "email": "x@example.com", "password": "not it 1"},
        headers={**headers, "Cookie": cookie.split(";", 1)[0]},
    )
    return answer.status_code


@pytest.mark.parametrize("trusted", [True, False], ids=["from-nginx", "from-anyone-else"])
async def test_the_portal_believes_the_snippets_headers_only_from_the_proxy(
    web_for, services, trusted: bool
) -> None:
    web = web_for(
        portal_url="https://pay.smith.example",
        client=("127.0.0.1", 41000) if trusted else ("203.0.113.50", 41000),
        trusted_proxies=["127.0.0.1"],
    )
    web._base_url = web._base_url.copy_with(scheme="http")  # nginx -> portal is plain http
    headers = snippet_headers()
    page = await web.get("/login", headers=headers)
    assert page.status_code == 200
    assert ("strict-transport-security" in page.headers) is trusted
    assert await _sign_in_attempt(web, headers) == 200  # "wrong email or password", counted
    with services.db.read() as session:
        buckets = set(session.scalars(select(PortalRateEvent.bucket)))
    counted = {bucket.rsplit(":", 1)[-1] for bucket in buckets if ":ip:" in bucket}
    assert counted == ({CLIENT} if trusted else {"203.0.113.50"})
