"""Browser sessions: cookie flags, a new id at sign-in, idle and absolute expiry, and every
session of a login ending on a password change, a reset, a deleted or a moved login."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from clientpay_tui.db.models import EmailKind, OutboxEmail, PortalSession
from clientpay_tui.services.payers import PayerForm
from tests.unit.portal.conftest import GOOD_PASSWORD, OTHER_PASSWORD, audit_actions, latest_link

from .conftest import csrf_of, post_form, set_password, sign_in


def _set_cookie(response: httpx.Response) -> str:
    return response.headers["set-cookie"]


async def test_https_portal_cookie_is_host_prefixed_secure_httponly_lax(web, active) -> None:
    payer = active()
    signed = await sign_in(web, payer.email, GOOD_PASSWORD)
    cookie = _set_cookie(signed)
    assert cookie.startswith("__Host-clientpay_session=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= attributes
    assert not any(part.startswith("domain") for part in attributes)


async def test_http_portal_cookie_has_no_prefix_and_no_secure(web_for, active) -> None:
    web = web_for(portal_url="http://127.0.0.1:8765")
    payer = active()
    signed = await sign_in(web, payer.email, GOOD_PASSWORD)
    cookie = _set_cookie(signed)
    assert cookie.startswith("clientpay_session=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=lax", "path=/"} <= attributes
    assert "secure" not in attributes
    assert (await web.get("/")).status_code == 200


async def test_the_cookie_holds_256_random_bits_and_the_table_only_their_hash(
    web, services
) -> None:
    page = await web.get("/login")
    value = page.cookies["__Host-clientpay_session"]
    assert len(value) == 43  # token_urlsafe(32)
    with services.db.read() as session:
        ids = list(session.scalars(select(PortalSession.id)))
    assert value not in ids and len(ids) == 1 and len(ids[0]) == 64


async def test_sign_in_issues_a_new_session_id(web, web_for, active) -> None:
    payer = active()
    before = (await web.get("/login")).cookies["__Host-clientpay_session"]
    planted = web.cookies["__Host-clientpay_session"]
    assert planted == before
    await sign_in(web, payer.email, GOOD_PASSWORD)
    after = web.cookies["__Host-clientpay_session"]
    assert after != before
    replay = web_for()
    replay.cookies.set("__Host-clientpay_session", before)
    assert (await replay.get("/")).headers["location"] == "/login"


async def test_idle_sessions_end_after_30_minutes(web, active, clock) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    clock.advance(minutes=29)
    assert (await web.get("/")).status_code == 200
    clock.advance(minutes=29)  # active: each visit moves the idle limit
    assert (await web.get("/")).status_code == 200
    clock.advance(minutes=30)
    assert (await web.get("/")).headers["location"] == "/login"


async def test_sessions_end_12_hours_after_sign_in_however_active(web, active, clock) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    for _ in range(24):  # 11 h 36 min
        clock.advance(minutes=29)
        assert (await web.get("/")).status_code == 200
    clock.advance(minutes=29)  # 12 h 5 min after sign-in
    assert (await web.get("/")).headers["location"] == "/login"


async def test_changing_the_password_ends_every_other_session(web_for, active, services) -> None:
    payer = active()
    here, elsewhere = web_for(), web_for()
    await sign_in(here, payer.email, GOOD_PASSWORD)
    await sign_in(elsewhere, payer.email, GOOD_PASSWORD)
    old_id = here.cookies["__Host-clientpay_session"]
    changed = await post_form(
        here,
        "/account",
        "/account",
        {
            "current_password": GOOD_PASSWORD,
            "password": OTHER_PASSWORD,
            "password_again": OTHER_PASSWORD,
        },
    )
    assert "Your password was changed" in changed.text
    assert here.cookies["__Host-clientpay_session"] != old_id
    assert (await here.get("/")).status_code == 200
    assert (await elsewhere.get("/")).headers["location"] == "/login"
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PortalSession)) == 1
        last = session.scalars(select(OutboxEmail.kind).order_by(OutboxEmail.id.desc())).first()
    assert last == EmailKind.PASSWORD_CHANGED
    assert "portal.password_changed" in audit_actions(services, payer.payer_id)


async def test_a_wrong_current_password_changes_nothing(web, web_for, active, services) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    refused = await post_form(
        web,
        "/account",
        "/account",
        {
            "current_password": "wrong one",
            "password": OTHER_PASSWORD,
            "password_again": OTHER_PASSWORD,
        },
    )
    assert "current password is not right" in refused.text
    assert "portal.password_change_failed" in audit_actions(services, payer.payer_id)
    assert (await sign_in(web_for(), payer.email, GOOD_PASSWORD)).headers["location"] == "/"


async def test_a_reset_ends_every_session(web_for, active, services, admin) -> None:
    payer = active()
    signed = web_for()
    await sign_in(signed, payer.email, GOOD_PASSWORD)
    services.access.send_reset(admin, payer.payer_id, confirmed_resend=True)
    _purpose, token = latest_link(services)
    await set_password(web_for(), f"/reset?token={token}", OTHER_PASSWORD)
    assert (await signed.get("/")).headers["location"] == "/login"


async def test_deleting_the_login_ends_its_sessions(web, active, services, admin) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    services.access.delete_login(admin, payer.payer_id)
    assert (await web.get("/")).headers["location"] == "/login"
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PortalSession)) == 0


async def test_moving_the_login_ends_its_sessions(web, active, services, admin) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    detail = services.payers.get(admin, payer.payer_id)
    services.payers.update(
        admin,
        payer.payer_id,
        detail.version,
        PayerForm(name="Ada Lovelace", email="ada@new.example.com"),
        move_login=True,
    )
    assert (await web.get("/")).headers["location"] == "/login"


async def test_removing_one_record_from_a_shared_login_ends_its_sessions(
    web, active, services, admin
) -> None:
    payer = active()
    other = services.payers.create(admin, PayerForm(name="Ada Trust", email=payer.email))
    services.access.grant(admin, other.id, confirmed_resend=True)
    await sign_in(web, payer.email, GOOD_PASSWORD)
    services.access.delete_login(admin, other.id)
    assert (await web.get("/")).headers["location"] == "/login"


async def test_an_old_session_never_shows_the_next_login_that_gets_its_id(
    web_for, active, services, admin
) -> None:
    """Login A signs in; staff delete A; a new login B is created. A's cookie must not show
    B's account (SQLite handed the deleted id to the next login before AUTOINCREMENT)."""
    a = active("Ada Lovelace", "ada@example.com")
    browser_a = web_for()
    await sign_in(browser_a, a.email, GOOD_PASSWORD)
    cookie_a = browser_a.cookies["__Host-clientpay_session"]
    services.access.delete_login(admin, a.payer_id)
    b = active("Bob Byron", "bob@example.com")
    fresh = web_for()
    fresh.cookies.set("__Host-clientpay_session", cookie_a)
    home = await fresh.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/login"
    assert b.email not in home.text


@pytest.mark.parametrize("path", ["/", "/account"])
async def test_pages_need_a_signed_in_payer(web, path) -> None:
    answer = await web.get(path)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"


async def test_logout_ends_the_session_in_the_database(web, active, services) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    home = await web.get("/")
    out = await web.post("/logout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PortalSession)) == 0


async def test_idle_sessions_of_others_are_purged_when_a_new_one_starts(
    web_for, services, clock
) -> None:
    await web_for().get("/login")
    clock.advance(minutes=31)
    await web_for().get("/login")
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PortalSession)) == 1
