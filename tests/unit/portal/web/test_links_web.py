"""``/welcome`` and ``/reset`` links on the web: the token leaves the URL at once, the password
form applies the policy, and every unusable link gets the same friendly page."""

from __future__ import annotations

from sqlalchemy import select

from clientpay_tui.db.models import EmailKind, OutboxEmail, PortalSession
from clientpay_tui.services import tokens
from tests.unit.portal.conftest import GOOD_PASSWORD, OTHER_PASSWORD, audit_actions, latest_link

from .conftest import csrf_of, post_form, set_password, sign_in, without_csrf


async def test_opening_a_link_redirects_at_once_to_a_url_without_the_token(web, invite) -> None:
    invited = invite()
    opened = await web.get(f"/welcome?token={invited.token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/set-password"
    assert invited.token not in opened.headers["location"]
    assert opened.headers["referrer-policy"] == "no-referrer"
    page = await web.get("/set-password")
    assert invited.token not in page.text
    assert invited.email in page.text and "Create your password" in page.text


async def test_the_session_keeps_the_token_hash_never_the_token(web, invite, services) -> None:
    invited = invite()
    await web.get(f"/welcome?token={invited.token}")
    with services.db.read() as session:
        row = session.execute(
            select(PortalSession.id, PortalSession.csrf_secret, PortalSession.link_token_hash)
        ).one()
    assert row.link_token_hash == tokens.hash_token(invited.token)
    assert invited.token not in {row.id, row.csrf_secret}


async def test_a_welcome_link_sets_the_password_and_signs_in(web, invite, services) -> None:
    invited = invite()
    done = await set_password(web, f"/welcome?token={invited.token}", GOOD_PASSWORD)
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert invited.email in (await web.get("/")).text
    assert "portal.accept" in audit_actions(services, invited.payer_id)


async def test_a_reset_link_sets_a_new_password(web, web_for, active, services, admin) -> None:
    payer = active()
    services.access.send_reset(admin, payer.payer_id, confirmed_resend=True)
    purpose, token = latest_link(services)
    assert purpose == "reset"
    done = await set_password(web, f"/reset?token={token}", OTHER_PASSWORD)
    assert done.headers["location"] == "/"
    with services.db.read() as session:
        kinds = list(session.scalars(select(OutboxEmail.kind).order_by(OutboxEmail.id)))
    assert kinds[-1] == EmailKind.PASSWORD_CHANGED
    assert (await sign_in(web_for(), payer.email, OTHER_PASSWORD)).headers["location"] == "/"


async def test_the_policy_explains_itself_and_the_link_stays_usable(web, invite) -> None:
    invited = invite()
    await web.get(f"/welcome?token={invited.token}")
    short = await post_form(
        web, "/set-password", "/set-password", {"password": "abc", "password_again": "abc"}
    )
    assert short.status_code == 200 and "at least 8 characters" in short.text
    differ = await post_form(
        web,
        "/set-password",
        "/set-password",
        {"password": GOOD_PASSWORD, "password_again": OTHER_PASSWORD},
    )
    assert "not the same" in differ.text
    common = await post_form(
        web,
        "/set-password",
        "/set-password",
        {"password": "password1", "password_again": "password1"},
    )
    assert "common" in common.text
    done = await post_form(
        web,
        "/set-password",
        "/set-password",
        {"password": GOOD_PASSWORD, "password_again": GOOD_PASSWORD},
    )
    assert done.headers["location"] == "/"


async def _invalid_page(web_for, link: str) -> str:
    web = web_for()
    opened = await web.get(link)
    assert opened.status_code == 303 and opened.headers["location"] == "/set-password"
    page = await web.get("/set-password")
    assert page.status_code == 200
    assert "send me a new link" in page.text.casefold()
    return without_csrf(page.text)


async def test_used_expired_revoked_and_altered_links_get_one_and_the_same_page(
    web_for, invite, services, admin, clock
) -> None:
    used = invite("Used", "used@example.com")
    await set_password(web_for(), f"/welcome?token={used.token}", GOOD_PASSWORD)
    revoked = invite("Revoked", "revoked@example.com")
    services.access.send_reset(admin, revoked.payer_id, confirmed_resend=True)  # new welcome
    expired = invite("Expired", "expired@example.com")
    altered = expired.token[:-1] + ("A" if expired.token[-1] != "A" else "B")
    reset_as_welcome = f"/reset?token={invite('Other', 'other@example.com').token}"
    pages = [
        await _invalid_page(web_for, f"/welcome?token={used.token}"),
        await _invalid_page(web_for, f"/welcome?token={revoked.token}"),
        await _invalid_page(web_for, f"/welcome?token={altered}"),
        await _invalid_page(web_for, "/welcome?token=nonsense"),
        await _invalid_page(web_for, "/welcome"),
        await _invalid_page(web_for, reset_as_welcome),
    ]
    clock.advance(days=8)
    pages.append(await _invalid_page(web_for, f"/welcome?token={expired.token}"))
    assert len(set(pages)) == 1
    refused = audit_actions(services, used.payer_id) + audit_actions(services, revoked.payer_id)
    assert refused.count("portal.link_refused") == 2


async def test_a_link_that_expires_while_its_form_is_open_is_refused(web, invite, clock) -> None:
    invited = invite()
    clock.advance(days=7, minutes=-1)
    await web.get(f"/welcome?token={invited.token}")
    form = await web.get("/set-password")
    assert "Create your password" in form.text
    clock.advance(minutes=2)
    late = await web.post(
        "/set-password",
        data={
            "csrf_token": csrf_of(form),
            "password": GOOD_PASSWORD,
            "password_again": GOOD_PASSWORD,
        },
    )
    assert "send me a new link" in late.text.casefold()


async def test_the_new_link_form_asks_for_a_reset_with_the_one_answer(
    web, active, services
) -> None:
    payer = active()
    await web.get("/welcome?token=nonsense")
    page = await web.get("/set-password")
    answer = await web.post("/forgot", data={"csrf_token": csrf_of(page), "email": payer.email})
    assert "If that address has a login" in answer.text
    purpose, _token = latest_link(services)
    assert purpose == "reset"


async def test_a_link_of_another_login_does_not_switch_a_signed_in_browser(
    web, active, invite, services
) -> None:
    """Login CSRF: someone mails a signed-in payer a link of their own account. Opening it
    changes nothing; the page names both accounts; only its CSRF-checked form continues."""
    victim = active("Ada Lovelace", "ada@example.com")
    assert (await sign_in(web, victim.email, GOOD_PASSWORD)).headers["location"] == "/"
    theirs = invite("Mallory Mail", "mallory@example.net")

    opened = await web.get(f"/welcome?token={theirs.token}")
    assert opened.status_code == 200
    assert "ada@example.com" in opened.text and "mallory@example.net" in opened.text
    home = await web.get("/")
    assert home.status_code == 200 and victim.email in home.text  # still signed in as Ada
    with services.db.read() as session:
        stages = list(session.scalars(select(PortalSession.stage)))
    assert stages == ["signed_in"]

    forged = await web.post("/welcome", data={"token": theirs.token})
    assert forged.status_code == 403
    assert victim.email in (await web.get("/")).text

    continued = await post_form(
        web, f"/welcome?token={theirs.token}", "/welcome", {"token": theirs.token}
    )
    assert continued.status_code == 303 and continued.headers["location"] == "/set-password"
    page = await web.get("/set-password")
    assert "mallory@example.net" in page.text and "Create your password" in page.text
    assert "Mallory" not in (await web.get("/")).text  # a link session, nobody signed in


async def test_a_link_of_the_signed_in_login_itself_opens_at_once(
    web, active, services, admin
) -> None:
    payer = active()
    await sign_in(web, payer.email, GOOD_PASSWORD)
    services.access.send_reset(admin, payer.payer_id, confirmed_resend=True)
    _purpose, token = latest_link(services)
    opened = await web.get(f"/reset?token={token}")
    assert opened.status_code == 303 and opened.headers["location"] == "/set-password"


async def test_an_unusable_link_leaves_a_signed_in_browser_signed_in(web, invite, services) -> None:
    """The used welcome link is the way back to the portal for many payers: opening it once
    signed in must not sign them out."""
    invited = invite()
    await set_password(web, f"/welcome?token={invited.token}", GOOD_PASSWORD)
    assert invited.email in (await web.get("/")).text  # signed in by setting the password

    opened = await web.get(f"/welcome?token={invited.token}")  # the same link, used
    assert opened.status_code == 303 and opened.headers["location"] == "/set-password"
    page = await web.get("/set-password")
    assert "This link cannot be used any more" in page.text
    assert "You are still signed in" in page.text
    assert "Send me a new link" not in page.text  # signed in: nothing to ask for
    home = await web.get("/")
    assert home.status_code == 200 and invited.email in home.text
    with services.db.read() as session:
        stages = list(session.scalars(select(PortalSession.stage)))
    assert stages == ["signed_in"]
    assert "portal.link_refused" in audit_actions(services, invited.payer_id)
