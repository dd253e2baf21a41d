"""A first walk through the portal: link, password, home, sign out, sign in."""

from __future__ import annotations

from tests.unit.portal.conftest import GOOD_PASSWORD
from tests.unit.portal.web.conftest import csrf_of, sign_in


async def test_welcome_link_sets_a_password_and_signs_in(web, invite) -> None:
    invited = invite()
    opened = await web.get(f"/welcome?token={invited.token}")
    assert opened.status_code == 303
    assert opened.headers["location"] == "/set-password"
    form = await web.get("/set-password")
    assert "Create your password" in form.text
    done = await web.post(
        "/set-password",
        data={
            "csrf_token": csrf_of(form),
            "password": GOOD_PASSWORD,
            "password_again": GOOD_PASSWORD,
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/"
    home = await web.get("/")
    assert home.status_code == 200 and invited.email in home.text
    out = await web.post("/logout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 303
    assert (await web.get("/")).headers["location"] == "/login"
    again = await sign_in(web, invited.email, GOOD_PASSWORD)
    assert again.status_code == 303 and again.headers["location"] == "/"
