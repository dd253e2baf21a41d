"""CSRF on every POST, the security headers on every answer, and whose forwarded headers
count (only ``trusted_proxies``')."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from clientpay_tui.db.models import PortalRateEvent
from tests.unit.portal.conftest import GOOD_PASSWORD

from .conftest import csrf_of, sign_in

POSTS = ["/login", "/logout", "/forgot", "/set-password", "/mfa", "/account"]


@pytest.mark.parametrize("action", POSTS)
async def test_every_post_is_refused_without_the_csrf_token(web, active, action) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    home = await web.get("/")
    assert home.status_code == 200
    data = {"email": payer.email, "password": GOOD_PASSWORD, "code": "123456"}
    missing = await web.post(action, data=data)
    wrong = await web.post(action, data={**data, "csrf_token": csrf_of(home)[:-2] + "xx"})
    for answer in (missing, wrong):
        assert answer.status_code == 403
        assert "This form has expired" in answer.text
    assert (await web.get("/")).status_code == 200  # still signed in: the logout was refused


async def test_a_token_from_another_session_is_refused(web_for, active) -> None:
    payer = active()
    attacker, victim = web_for(), web_for()
    their_token = csrf_of(await attacker.get("/login"))
    await sign_in(victim, payer.email, GOOD_PASSWORD)
    answer = await victim.post("/logout", data={"csrf_token": their_token})
    assert answer.status_code == 403
    assert (await victim.get("/")).status_code == 200


async def test_a_post_without_any_session_is_refused(web) -> None:
    answer = await web.post("/login", data={"csrf_token": "x", "email": "a@b.c", "password": "p"})
    assert answer.status_code == 403


@pytest.mark.parametrize(
    "path", ["/login", "/forgot", "/set-password", "/nowhere", "/static/portal.css"]
)
async def test_security_headers_on_every_answer(web, path) -> None:
    answer = await web.get(path)
    csp = answer.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["strict-transport-security"].startswith("max-age=")


async def test_security_headers_on_an_unhandled_error(web_app, services) -> None:
    """Starlette answers an unhandled exception outside its middleware list: the 500 carries
    the same headers as any page."""

    async def broken(_request: Request) -> Response:
        raise RuntimeError("a bug in a page")

    web_app.add_route("/broken", broken)
    transport = httpx.ASGITransport(
        app=web_app, client=("203.0.113.7", 50000), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="https://portal.test") as web:
        answer = await web.get("/broken")
    assert answer.status_code == 500
    assert "a bug in a page" not in answer.text
    csp = answer.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["strict-transport-security"].startswith("max-age=")


async def test_pages_have_no_inline_script_or_style(web) -> None:
    for path in ("/login", "/forgot", "/set-password"):
        text = (await web.get(path)).text
        assert "<script" not in text and "style=" not in text and "<style" not in text


async def test_no_hsts_for_a_plain_http_portal(web_for) -> None:
    web = web_for(portal_url="http://127.0.0.1:8765")
    assert "strict-transport-security" not in (await web.get("/login")).headers


async def test_forwarded_headers_of_an_untrusted_peer_are_ignored(web_for, services) -> None:
    """The peer is not a trusted proxy: it cannot pick the address its limits count against,
    nor claim https."""
    web = web_for(portal_url="http://127.0.0.1:8765", client=("198.51.100.20", 4000))
    token = csrf_of(await web.get("/login"))
    await web.post(
        "/login",
        data={"csrf_token": token, "email": "x@example.com", "password": "nope nope"},
        headers={"X-Forwarded-For": "192.0.2.99", "X-Forwarded-Proto": "https"},
    )
    with services.db.read() as session:
        buckets = set(session.scalars(select(PortalRateEvent.bucket)))
    assert "sign_in:ip:198.51.100.20" in buckets
    assert not any("192.0.2.99" in bucket for bucket in buckets)


async def test_a_trusted_proxy_names_the_client_and_the_scheme(web_for, services) -> None:
    web = web_for(
        portal_url="https://portal.test",
        client=("10.0.0.5", 4000),
        trusted_proxies=["10.0.0.0/8"],
    )
    headers = {"X-Forwarded-For": "192.0.2.1, 192.0.2.99, 10.0.0.4", "X-Forwarded-Proto": "https"}
    token = csrf_of(await web.get("/login", headers=headers))
    await web.post(
        "/login",
        data={"csrf_token": token, "email": "x@example.com", "password": "nope nope"},
        headers=headers,
    )
    with services.db.read() as session:
        buckets = set(session.scalars(select(PortalRateEvent.bucket)))
    # The right-most address that is not one of our proxies; 192.0.2.1 is the client's to write.
    assert "sign_in:ip:192.0.2.99" in buckets


async def test_hsts_follows_the_trusted_proxy_scheme(web_for) -> None:
    plain = web_for(portal_url="https://portal.test", client=("10.0.0.5", 1))
    plain._base_url = plain._base_url.copy_with(scheme="http")
    spoofed = await plain.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    proxied = web_for(
        portal_url="https://portal.test", client=("10.0.0.5", 1), trusted_proxies=["10.0.0.5"]
    )
    proxied._base_url = proxied._base_url.copy_with(scheme="http")
    told = await proxied.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" in told.headers


async def test_a_huge_form_is_refused_before_it_is_read(web) -> None:
    token = csrf_of(await web.get("/login"))
    big = await web.post("/login", data={"csrf_token": token, "email": "a" * 70_000})
    assert big.status_code == 413
    assert big.headers["x-content-type-options"] == "nosniff"

    async def stream():
        for _ in range(20):
            yield b"a" * 8192

    streamed = await web.post(
        "/login",
        content=stream(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert streamed.status_code == 413
