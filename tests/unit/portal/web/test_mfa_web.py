"""``portal_mfa = "email"``: after the password, a 6-digit code from the outbox; 10 minutes,
5 tries, single use; an exempt payer skips it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from clientpay_tui.db.models import EmailKind, OutboxEmail, Payer
from tests.unit.portal.conftest import GOOD_PASSWORD, audit_actions

from .conftest import csrf_of, sign_in


def latest_code(services) -> str:
    with services.db.read() as session:
        body = session.scalars(
            select(OutboxEmail.body_text)
            .where(OutboxEmail.kind == EmailKind.SIGN_IN_CODE)
            .order_by(OutboxEmail.id.desc())
        ).first()
    found = re.search(r"^\s+(\d{6})$", body or "", re.MULTILINE)
    assert found, body
    return found.group(1)


@pytest.fixture
def mfa_web(web_for):
    def make():
        return web_for(portal_mfa="email")

    return make


async def _enter(web, code: str):
    page = await web.get("/mfa")
    return await web.post("/mfa", data={"csrf_token": csrf_of(page), "code": code})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


async def test_the_password_leads_to_the_code_and_the_code_signs_in(mfa_web, active, services):
    payer = active()
    web = mfa_web()
    before = (await web.get("/login")).cookies["__Host-clientpay_session"]
    answer = await sign_in(web, payer.email, GOOD_PASSWORD)
    assert answer.headers["location"] == "/mfa"
    pending = web.cookies["__Host-clientpay_session"]
    assert pending != before
    assert (await web.get("/")).headers["location"] == "/login"  # not signed in yet
    done = await _enter(web, latest_code(services))
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert web.cookies["__Host-clientpay_session"] != pending
    assert (await web.get("/")).status_code == 200
    actions = audit_actions(services, payer.payer_id)
    assert "portal.mfa_sent" in actions and "portal.mfa_passed" in actions


async def test_a_wrong_code_says_how_many_tries_are_left_and_five_end_it(mfa_web, active, services):
    payer = active()
    web = mfa_web()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    code = latest_code(services)
    for left in (4, 3, 2, 1):
        answer = await _enter(web, _wrong(code))
        assert f"{left} {'try' if left == 1 else 'tries'} left" in answer.text
    last = await _enter(web, _wrong(code))
    assert "Too many wrong codes" in last.text
    assert (await web.get("/mfa")).headers["location"] == "/login"
    assert audit_actions(services, payer.payer_id).count("portal.mfa_failed") == 5


async def test_an_expired_code_is_refused(mfa_web, active, services, clock):
    payer = active()
    web = mfa_web()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    code = latest_code(services)
    page = await web.get("/mfa")
    clock.advance(minutes=10)
    answer = await web.post("/mfa", data={"csrf_token": csrf_of(page), "code": code})
    assert "That code has expired" in answer.text
    assert (await web.get("/")).headers["location"] == "/login"


@pytest.fixture
def codes(monkeypatch):
    """The codes handed out, in order: 111111, 222222, …"""
    issued = iter(range(111111, 1_000_000, 111111))
    monkeypatch.setattr("clientpay_tui.portal.mfa.secrets.randbelow", lambda _n: next(issued))


async def test_a_code_works_once(mfa_web, active, services, codes):
    payer = active()
    web = mfa_web()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    assert latest_code(services) == "111111"
    page = await web.get("/mfa")
    token, pending = csrf_of(page), web.cookies["__Host-clientpay_session"]
    await web.post("/mfa", data={"csrf_token": token, "code": "111111"})
    # Replayed with the session that asked for it: that session is gone.
    replay = mfa_web()
    replay.cookies.set("__Host-clientpay_session", pending)
    again = await replay.post("/mfa", data={"csrf_token": token, "code": "111111"})
    assert again.status_code == 403
    assert (await replay.get("/")).headers["location"] == "/login"
    # A new sign-in gets a new code; the old one does not work there.
    other = mfa_web()
    await sign_in(other, payer.email, GOOD_PASSWORD)
    assert latest_code(services) == "222222"
    assert "not right" in (await _enter(other, "111111")).text
    assert (await _enter(other, "222222")).headers["location"] == "/"


async def test_a_code_from_another_session_does_not_work(mfa_web, active, services, codes):
    payer = active()
    first, second = mfa_web(), mfa_web()
    await sign_in(first, payer.email, GOOD_PASSWORD)
    await sign_in(second, payer.email, GOOD_PASSWORD)
    assert "not right" in (await _enter(second, "111111")).text
    assert (await _enter(first, "111111")).headers["location"] == "/"


async def test_an_exempt_payer_skips_the_code(mfa_web, active, services):
    payer = active()
    with services.db.write() as session:
        session.execute(update(Payer).where(Payer.id == payer.payer_id).values(mfa_exempt=True))
    answer = await sign_in(mfa_web(), payer.email, GOOD_PASSWORD)
    assert answer.headers["location"] == "/"
    with services.db.read() as session:
        kinds = set(session.scalars(select(OutboxEmail.kind)))
    assert EmailKind.SIGN_IN_CODE not in kinds


async def test_without_mfa_no_code_is_asked(web, active):
    payer = active()
    assert (await sign_in(web, payer.email, GOOD_PASSWORD)).headers["location"] == "/"
