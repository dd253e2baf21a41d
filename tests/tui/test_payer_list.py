"""The payer list: search as you type, paging from the database, opening a payer."""

from __future__ import annotations

import csv

from textual import events

from clientpay_tui.screens.base import help_entries
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.screens.payer_list import PayerListScreen
from clientpay_tui.seeding.seed import seed
from tests.tui.conftest import screen_text, toasts, until


async def test_search_filters_and_enter_opens_from_the_search_box(make_app, staff, add_payer):
    add_payer("Ada Lovelace", "ada@example.com")
    grace = add_payer("Grace Hopper", "grace@navy.example")
    add_payer("Alan Turing", "alan@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PayerListScreen)
        await screen.table.wait_loaded()
        assert screen.table.row_count == 3
        await pilot.press("slash", *"navy")
        await screen.table.wait_loaded()
        assert screen.table.row_count == 1
        assert "Grace Hopper" in screen_text(app)
        assert "Ada Lovelace" not in screen_text(app)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert app.screen.detail.id == grace


async def test_keys_typed_right_after_slash_reach_the_search_box(make_app, staff, add_payer):
    add_payer("Ada Lovelace", "ada@example.com")
    target = add_payer("Edsger Dijkstra", "edsger@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        # Everything at once, as a laggy SSH link delivers it.
        for key in ("slash", "d", "i", "j", "k", "enter"):
            app.post_message(events.Key(key, None if len(key) > 1 else key))
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert app.screen.detail.id == target


async def test_space_right_behind_down_selects_in_the_table(make_app, staff, add_payer):
    """Down leaves the search box and space selects the row there, even when both arrive
    at once (one packet over SSH): the space went into the search box, nothing selected."""
    ada = add_payer("Ada Lovelace", "ada@example.com")
    add_payer("Ada Byron", "byron@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await screen.table.wait_loaded()
        await pilot.press("slash", *"love")
        await until(pilot, lambda: screen.table.row_count == 1)
        for key, character in (("down", None), ("space", " ")):
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: screen.picked.has(ada))
        assert screen.query_one("#search").value == "love"  # nothing went into the search box
        assert screen.focused is screen.table
        # Escape likewise.
        await pilot.press("slash")
        await screen.table.wait_loaded()
        typed = screen.query_one("#search").value
        picked = screen.picked
        for key, character in (("escape", None), ("space", " ")):
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: screen.picked != picked)
        assert screen.focused is screen.table
        assert screen.query_one("#search").value == typed


async def test_rows_come_a_page_at_a_time(make_app, staff, services, admin):
    seed(services.ctx, admin, payers=1_000, invoices=0)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.table
        await table.wait_loaded()
        assert table.row_count == 1_000
        assert len(table._data.pages) == 1  # only the first page was fetched
        await pilot.press("end")
        await until(pilot, lambda: table.highlighted is not None)
        assert table.cursor_row == 999
        assert sorted(table._data.pages) == [0, 999 // table.page_size]
        await pilot.press("home", "down", "down")
        assert table.cursor_row == 2


async def test_search_by_client_number(make_app, staff, services, admin, add_payer):
    seed(services.ctx, admin, payers=30, invoices=200)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.table
        await pilot.press("slash", *"c000001")
        await table.wait_loaded()
        expected, _ = services.payers.count(staff, "c000001")
        assert expected > 0
        assert table.row_count == expected


async def test_end_right_after_the_rows_arrive_scrolls_to_the_last_row(
    make_app, staff, services, admin
):
    seed(services.ctx, admin, payers=300, invoices=0)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        table = screen.table
        screen.search("no such payer")
        await table.wait_loaded()
        await pilot.pause()
        assert table.row_count == 0
        screen.search("")
        await table.wait_loaded()
        table.action_last()  # before any repaint: the scrollbars are not laid out yet
        # The last page arrives from a worker: wait for it (a fixed pause failed under load).
        await until(pilot, lambda: table.highlighted is not None)
        assert table.scroll_offset.y > 0
        assert table.highlighted is not None and table.cursor_row == 299


async def test_e_exports_the_searched_payers_to_the_data_folder(
    make_app, agent, add_payer, tmp_path
):
    add_payer("Ada Lovelace", "ada@example.com")
    add_payer("=cmd|' /C calc'!A0", "calc@example.com")
    add_payer("Grace Hopper", "grace@navy.example")
    app = make_app(agent)  # viewing is enough to export
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        await pilot.press("slash", *"example.com", "escape")
        await screen.table.wait_loaded()
        assert screen.table.row_count == 2
        await pilot.press("e")
        await until(pilot, lambda: any("Access review" in t for t in toasts(app)))
        folder = tmp_path / "data" / "clientpay-tui" / "exports"
        [path] = folder.glob("access-review-*.csv")
        [message] = [t for t in toasts(app) if "Access review" in t]
        assert message == f"Access review of 2 payers saved to {path}"
        rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
        assert [row["payer"] for row in rows] == ["'=cmd|' /C calc'!A0", "Ada Lovelace"]
        [entry] = [entry for entry in help_entries(screen) if entry.key == "e"]
        assert entry.note is None and "Export" in entry.description


async def test_e_exports_the_filter_then_only_the_selection(
    make_app, staff, services, admin, add_payer, tmp_path
):
    add_payer("Ada Lovelace", "ada@example.com")  # no login: filtered out
    for name, email in [
        ("Alan Turing", "alan@example.com"),
        ("Anne Invited", "anne@example.com"),
        ("Grace Hopper", "grace@navy.example"),  # not found by the search
    ]:
        services.access.grant(admin, add_payer(name, email))
    folder = tmp_path / "data" / "clientpay-tui" / "exports"

    async def export(pilot, app, message_start):
        before = set(folder.glob("*.csv")) if folder.exists() else set()
        seen = len([t for t in toasts(app) if "Access review" in t])
        await pilot.press("e")
        await until(pilot, lambda: len([t for t in toasts(app) if "Access review" in t]) > seen)
        [path] = set(folder.glob("*.csv")) - before
        message = [t for t in toasts(app) if "Access review" in t][-1]
        assert message == f"{message_start} saved to {path}"
        return [row["payer"] for row in csv.DictReader(path.open(newline="", encoding="utf-8"))]

    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PayerListScreen)
        await pilot.press("slash", *"example.com", "escape", "f", "f")  # Login: Invited
        await until(pilot, lambda: "Login: Invited" in screen_text(app))
        await screen.table.wait_loaded()
        assert screen.table.row_count == 2
        rows = await export(pilot, app, "Access review of 2 payers")
        assert rows == ["Alan Turing", "Anne Invited"]
        await pilot.press("space")  # Alan selected, the cursor on Anne
        rows = await export(pilot, app, "Access review of 1 selected payer")
        assert rows == ["Alan Turing"]
        await pilot.press("ctrl+a", "space")  # every match but Anne
        assert screen.picked.matching is not None and screen.picked.excluded
        rows = await export(pilot, app, "Access review of 1 selected payer")
        assert rows == ["Alan Turing"]
