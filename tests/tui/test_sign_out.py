"""Sign out from the command palette: back to the sign-in screen to sign in as someone else
(the demo's way to see what the other roles see), asking first about unsaved edits."""

from __future__ import annotations

from textual.command import CommandList, CommandPalette
from textual.widgets import Input

from clientpay_tui.db.models import Role
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.screens.sign_in import SignInScreen
from tests.tui.conftest import dialog, open_details, until


def sign_outs(services, admin) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return [
        (entry.actor, entry.summary)
        for entry in services.audit.recent(admin)
        if entry.action == "staff.sign_out"
    ]


async def palette_sign_out(app, pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(app.screen, CommandPalette), seconds=10)
    await pilot.press(*"sign out")

    def sign_out_highlighted() -> bool:
        option = app.screen.query_one(CommandList).highlighted_option
        return option is not None and str(option.prompt).startswith("Sign out")

    await until(pilot, sign_out_highlighted, seconds=10)
    await pilot.press("enter")


async def test_sign_out_from_the_palette_then_sign_in_as_another_role(
    make_app, make_actor, staff, services, admin
):
    make_actor(Role.AGENT, "alex")
    app = make_app(staff, sign_in_hint="Demo accounts: sam (staff), alex (agent).")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        assert app.sub_title == "sam (staff)"
        await palette_sign_out(app, pilot)
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert app.session is None and app.sub_title == ""
        notice = str(app.screen.query_one("#sign-in-notice").render())
        assert notice == "Signed out. Demo accounts: sam (staff), alex (agent)."
        assert app.screen.query_one("#username", Input).value == ""
        await until(pilot, lambda: sign_outs(services, admin) == [("sam", "Signed out")])

        await pilot.press(*"alex", "enter", *"correct horse battery", "enter")
        await until(pilot, lambda: isinstance(app.screen, PayerListScreen))
        assert app.session is not None and app.session.actor.role == Role.AGENT
        assert app.sub_title == "alex (agent)"


async def test_sign_out_asks_first_about_unsaved_edits(make_app, staff, add_payer):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        screen.query_one("#phone", Input).focus()
        await pilot.press(*"555")
        await palette_sign_out(app, pilot)
        asked = await dialog(app, pilot)
        assert "You changed Ada Lovelace and did not save" in str(
            asked.query_one("#dialog-message").render()
        )
        await pilot.press("n")  # keep editing
        await until(pilot, lambda: app.screen is screen)
        assert isinstance(app.screen, PayerDetailsScreen) and app.session is not None
        assert screen.query_one("#phone", Input).value.endswith("555")

        await palette_sign_out(app, pilot)
        asked = await dialog(app, pilot)
        assert isinstance(asked, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, SignInScreen))
        assert app.session is None
