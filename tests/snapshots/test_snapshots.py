"""Every screen and the dialog at 80x24, on the demo data with a frozen clock.

Update with ``pytest tests/snapshots --snapshot-update`` and look at the SVGs before committing.
Payer ids of the demo data: 1 Ada Lovelace (active), 2 Alan Turing (invited), 5 Barbara
Liskov (no login), 10 a name that looks like markup.
"""

from __future__ import annotations

from tests.snapshots.conftest import open_payer, settled
from tests.waiting import until

ADA, ALAN, BARBARA, MARKUP = 1, 2, 5, 10


def test_sign_in(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app(None), run_before=settled)


def test_payer_list(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app(), run_before=settled)


def test_payer_list_search(snap_compare, snapshot_app):
    async def search(pilot):
        await settled(pilot)
        await pilot.press("slash", *"hamilton")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=search)


def test_payer_list_bulk_grant_dialog(snap_compare, snapshot_app):
    async def bulk(pilot):
        await settled(pilot)
        await pilot.press("f")  # No login
        await settled(pilot)
        await pilot.press("ctrl+a", "g")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=bulk)


def test_payer_details_active(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app(), run_before=lambda pilot: open_payer(pilot, ADA))


def test_payer_details_invited(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app(), run_before=lambda pilot: open_payer(pilot, ALAN))


def test_payer_details_markup_name(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app(), run_before=lambda pilot: open_payer(pilot, MARKUP))


def test_payer_details_agent(snap_compare, snapshot_app):
    assert snap_compare(snapshot_app("alex"), run_before=lambda pilot: open_payer(pilot, BARBARA))


def test_grant_dialog(snap_compare, snapshot_app):
    async def grant(pilot):
        await open_payer(pilot, BARBARA)
        await pilot.press("l")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=grant)


def test_delete_dialog(snap_compare, snapshot_app):
    async def delete(pilot):
        await open_payer(pilot, ADA)
        await pilot.press("d")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=delete)


def test_portal_preview_tab(snap_compare, snapshot_app):
    async def preview(pilot):
        await open_payer(pilot, ADA)
        pilot.app.screen.query_one("TabbedContent").active = "preview-tab"
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=preview)


def test_activity_tab(snap_compare, snapshot_app):
    async def activity(pilot):
        await open_payer(pilot, ADA)
        pilot.app.screen.query_one("TabbedContent").active = "activity-tab"
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=activity)


def test_help(snap_compare, snapshot_app):
    async def help_screen(pilot):
        await open_payer(pilot, ADA)
        await pilot.press("question_mark")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=help_screen)


def test_new_payer(snap_compare, snapshot_app):
    async def new_payer(pilot):
        await settled(pilot)
        await pilot.press("n")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=new_payer)


def test_mail(snap_compare, snapshot_app):
    async def mail(pilot):
        await settled(pilot)
        await pilot.press("m")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=mail)


def test_light_theme(snap_compare, snapshot_app):
    async def light(pilot):
        pilot.app.theme = "clientpay-light"
        await open_payer(pilot, ADA)

    assert snap_compare(snapshot_app(), run_before=light)


def test_associations_tab(snap_compare, snapshot_app):
    async def associations(pilot):
        await open_payer(pilot, ADA)
        await pilot.press("2")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=associations)


def test_add_associations(snap_compare, snapshot_app):
    async def add(pilot):
        await open_payer(pilot, ADA)
        await pilot.press("a")
        await settled(pilot)
        await pilot.press(*"birch", "down")
        await settled(pilot)
        await pilot.press("space", "space", "l")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=add)


def test_add_associations_bad_date(snap_compare, snapshot_app):
    async def bad_date(pilot):
        await open_payer(pilot, ADA)
        await pilot.press("a")
        await settled(pilot)
        await pilot.press("tab", "tab", "tab", *"2026-02-30", "tab")
        await settled(pilot)

    assert snap_compare(snapshot_app(), run_before=bad_date)


def test_sign_in_after_idle_sign_out(snap_compare, snapshot_app):
    from textual.widgets import Input

    from clientpay_tui.screens.sign_in import SignInScreen

    seconds = [1000.0]
    app = snapshot_app(idle_clock=lambda: seconds[0], idle_check_seconds=0.01)

    async def run_before(pilot):
        await open_payer(pilot, MARKUP)
        pilot.app.screen.query_one("#phone", Input).focus()
        await pilot.press(*"0123")
        seconds[0] += 30 * 60
        await until(pilot, lambda: isinstance(pilot.app.screen, SignInScreen))  # idle sign-out
        await settled(pilot)

    assert snap_compare(app, run_before=run_before)
