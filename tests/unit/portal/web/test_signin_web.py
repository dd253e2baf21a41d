"""``/login`` and ``/forgot`` on the web: one answer, in about the same time, for addresses
with and without a login."""

from __future__ import annotations

import statistics
import time

from clientpay_tui.portal.web import create_app
from clientpay_tui.services.facade import Services
from tests.unit.portal.conftest import GOOD_PASSWORD, audit_actions

from .conftest import csrf_of, post_form, sign_in, without_csrf


async def test_sign_in_with_the_right_password_lands_on_home(web, active, services) -> None:
    payer = active()
    answer = await sign_in(web, payer.email, GOOD_PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert (await web.get("/login")).headers["location"] == "/"
    assert "portal.sign_in" in audit_actions(services, payer.payer_id)


async def test_wrong_password_and_unknown_address_get_the_same_page(web_for, active) -> None:
    payer = active()
    wrong = await sign_in(web_for(), payer.email, "not the password")
    unknown = await sign_in(web_for(), "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert "Wrong email address or password" in wrong.text
    same_email = without_csrf(unknown.text).replace("nobody@example.com", payer.email)
    assert without_csrf(wrong.text) == same_email


async def test_forgot_gives_one_answer_and_sends_only_to_a_known_address(
    web_for, active, services
) -> None:
    payer = active()
    known = await post_form(web_for(), "/forgot", "/forgot", {"email": payer.email})
    unknown = await post_form(web_for(), "/forgot", "/forgot", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(known.text) == without_csrf(unknown.text)
    assert "If that address has a login" in known.text
    assert "portal.reset_requested" in audit_actions(services, payer.payer_id)


async def test_forgot_explains_a_malformed_address(web) -> None:
    answer = await post_form(web, "/forgot", "/forgot", {"email": "not an address"})
    assert "Enter your email address" in answer.text


async def test_sign_in_and_forgot_take_the_same_time_for_known_and_unknown_addresses(
    web_for, active, services, clock
) -> None:
    """With the production response floor (0.2 s) the medians stay within 25 % of each other
    (the service-level test's bound; this one adds the web layer on a busy machine)."""
    payer = active()
    app = create_app(Services(services.db, services.settings, clock))  # default floor
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    forgot: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(7):
        for kind, email in (("known", payer.email), ("unknown", "nobody@example.com")):
            web = web_for(app=app)
            token = csrf_of(await web.get("/login"))
            started = time.perf_counter()
            await web.post(
                "/login", data={"csrf_token": token, "email": email, "password": "x" * 10}
            )
            timings[kind].append(time.perf_counter() - started)
            started = time.perf_counter()
            await web.post("/forgot", data={"csrf_token": token, "email": email})
            forgot[kind].append(time.perf_counter() - started)
    for measured in (timings, forgot):
        known, unknown = (statistics.median(measured[k]) for k in ("known", "unknown"))
        print(f"median s: known {known:.3f}, unknown {unknown:.3f}")
        assert min(known, unknown) >= 0.2
        assert max(known, unknown) / min(known, unknown) < 1.25, measured


async def test_logout_then_sign_in_again(web, active) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    home = await web.get("/")
    await web.post("/logout", data={"csrf_token": csrf_of(home)})
    assert (await web.get("/")).headers["location"] == "/login"
    assert (await sign_in(web, payer.email, GOOD_PASSWORD)).headers["location"] == "/"


async def test_unknown_pages_get_a_404_page(web) -> None:
    answer = await web.get("/nowhere")
    assert answer.status_code == 404 and "This page does not exist" in answer.text


async def test_a_database_problem_is_one_friendly_line_not_a_traceback(
    web, web_app, monkeypatch
) -> None:
    from clientpay_tui.errors import DatabaseBusy
    from clientpay_tui.portal.sessions import PortalSessions

    def busy(*_args, **_kwargs):
        raise DatabaseBusy("the database is locked by another program")

    monkeypatch.setattr(PortalSessions, "load", busy)
    monkeypatch.setattr(PortalSessions, "start", busy)
    answer = await web.get("/login")
    assert answer.status_code == 503
    assert "cannot reach its records" in answer.text
    assert answer.headers["content-security-policy"]


async def test_an_unknown_page_starts_no_session(web, services) -> None:
    from sqlalchemy import func, select

    from clientpay_tui.db.models import PortalSession

    assert (await web.get("/favicon.ico")).status_code == 404
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PortalSession)) == 0
