"""Per-IP and per-account limits on sign-in, ``/forgot``, links and codes, held in the
database (shared by every portal process), answered with "try again in N minutes"."""

from __future__ import annotations

from clientpay_tui.portal import limits
from clientpay_tui.portal.web import create_app
from clientpay_tui.services.facade import Services
from tests.unit.portal.conftest import GOOD_PASSWORD

from .conftest import csrf_of


async def _post_many(web, action: str, rows: list[dict[str, str]]):
    token = csrf_of(await web.get("/login"))
    answers = []
    for data in rows:
        answers.append(await web.post(action, data={"csrf_token": token, **data}))
    return answers


async def test_sign_in_per_ip_limit_then_try_again_later(web, clock) -> None:
    rows = [
        {"email": f"guess{n}@example.com", "password": "wrong wrong"}
        for n in range(limits.SIGN_IN_IP.limit + 1)
    ]
    answers = await _post_many(web, "/login", rows)
    assert all(a.status_code == 200 for a in answers[:-1])
    assert answers[-1].status_code == 429
    assert "Too many attempts. Try again in 15 minutes." in answers[-1].text
    clock.advance(minutes=15)
    again = await _post_many(web, "/login", rows[:1])
    assert again[0].status_code == 200


async def test_sign_in_per_account_limit_across_addresses(web_for, active) -> None:
    payer = active()
    answers = []
    for n in range(limits.SIGN_IN_ACCOUNT.limit + 1):
        web = web_for(client=(f"198.51.100.{n + 1}", 1000))
        answers += await _post_many(
            web, "/login", [{"email": payer.email.upper(), "password": "wrong wrong"}]
        )
    assert answers[-1].status_code == 429
    assert "Try again in" in answers[-1].text
    # Even the right password waits: the limit is checked first.
    web = web_for(client=("198.51.100.200", 1000))
    right = await _post_many(web, "/login", [{"email": payer.email, "password": GOOD_PASSWORD}])
    assert right[0].status_code == 429


async def test_forgot_limits_per_ip_and_per_address(web_for) -> None:
    web = web_for()
    rows = [{"email": f"who{n}@example.com"} for n in range(limits.FORGOT_IP.limit + 1)]
    answers = await _post_many(web, "/forgot", rows)
    assert answers[-2].status_code == 200 and answers[-1].status_code == 429
    same = []
    for n in range(limits.FORGOT_ACCOUNT.limit + 1):
        other = web_for(client=(f"198.51.100.{n + 1}", 1000))
        same += await _post_many(other, "/forgot", [{"email": "target@example.com"}])
    assert same[-2].status_code == 200 and same[-1].status_code == 429
    assert "Try again in 30 minutes" in same[-1].text


async def test_link_opening_is_limited_per_ip(web) -> None:
    for _ in range(limits.LINK_IP.limit):
        assert (await web.get("/welcome?token=guess")).status_code == 303
    refused = await web.get("/welcome?token=guess")
    assert refused.status_code == 429 and "Try again in" in refused.text


async def test_code_entry_is_limited_per_ip(web_for, active, services, clock) -> None:
    payer = active()
    app = create_app(
        Services(services.db, services.settings.model_copy(update={"portal_mfa": "email"}), clock),
        floor_seconds=0,
    )
    answers = []
    for n in range(limits.MFA_IP.limit // 4 + 1):
        web = web_for(app=app)
        token = csrf_of(await web.get("/login"))
        await web.post(
            "/login", data={"csrf_token": token, "email": payer.email, "password": GOOD_PASSWORD}
        )
        token = csrf_of(await web.get("/mfa"))
        for _ in range(4):
            answers.append(await web.post("/mfa", data={"csrf_token": token, "code": "000000"}))
        del n
    statuses = [a.status_code for a in answers]
    assert 429 in statuses
    first = statuses.index(429)
    assert first == min(limits.MFA_IP.limit, limits.MFA_ACCOUNT.limit)


async def test_the_limits_live_in_the_database_shared_by_two_apps(web_for, services, clock) -> None:
    """Two portal processes (two apps) on one database count the same attempts."""
    apps = [
        create_app(Services(services.db, services.settings, clock), floor_seconds=0)
        for _ in range(2)
    ]
    statuses = []
    for n in range(limits.FORGOT_IP.limit + 1):
        web = web_for(app=apps[n % 2])
        token = csrf_of(await web.get("/forgot"))
        answer = await web.post("/forgot", data={"csrf_token": token, "email": f"x{n}@example.com"})
        statuses.append(answer.status_code)
    assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
