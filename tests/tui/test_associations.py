"""The Associations tab and the add-associations screen, driven by keys, checked in the database."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select
from textual import events
from textual.widgets import Input, TabbedContent

from clientpay_tui.db.models import Association, AuditEvent, InvoiceSource
from clientpay_tui.screens.add_associations import AddAssociationsScreen
from clientpay_tui.screens.confirm import ConfirmScreen
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.services.associations import Level, Selection
from tests.tui.conftest import (
    connect,
    dialog,
    dialog_text,
    open_details,
    screen_text,
    toasts,
    until,
)
from tests.waiting import settle_before_checking_nothing_happened


@pytest.fixture
def book(firm: Any) -> dict[str, Any]:
    return {
        "g1": firm.invoice(
            "INV-100", client="C-100", client_name="Granite Ltd", matter="M-100-1", day="2026-01-10"
        ),
        "g2": firm.invoice(
            "INV-101",
            client="C-100",
            matter="M-100-2",
            description="Tax planning",
            day="2026-02-10",
            balance=0,
            source=InvoiceSource.INTERNAL,
        ),
        "b1": firm.invoice(
            "INV-200",
            client="C-200",
            client_name="Birch & Oak LLC",
            matter="M-200-1",
            description="Trademark filing",
            day="2026-03-10",
            source=InvoiceSource.EXTERNAL,
        ),
    }


def associations(services: Any, payer_id: int) -> set[tuple[int | None, int | None, int | None]]:
    """The payer's associations as ``(client_id, matter_id, invoice_id)``."""
    with services.db.read() as session:
        return {
            (a.client_id, a.matter_id, a.invoice_id)
            for a in session.scalars(select(Association).where(Association.payer_id == payer_id))
        }


def shown(screen: AddAssociationsScreen) -> list[str]:
    table = screen.table
    rows = [table.row_at(i) for i in range(table.row_count)]
    return [row.invoice_number for row in rows if row is not None]


async def open_add_screen(app: Any, pilot: Any, payer_id: int) -> AddAssociationsScreen:
    await open_details(app, pilot, payer_id)
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, AddAssociationsScreen))
    screen = app.screen
    await settled(pilot, screen)
    return screen


async def settled(pilot: Any, screen: AddAssociationsScreen) -> None:
    """Let typed keys reach the filter and the table show what it finds."""
    await pilot.pause()
    await until(pilot, lambda: screen.table._data is not None)
    await screen.table.wait_loaded()
    await pilot.pause()


async def test_keyboard_flow_creates_an_invoice_association(
    make_app, staff, services, admin, add_payer, book
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        assert shown(screen) == ["INV-200", "INV-101", "INV-100"]  # newest first
        await pilot.press(*"granite")  # typed straight into the search box
        await settled(pilot, screen)
        assert shown(screen) == ["INV-101", "INV-100"]
        await pilot.press("down", "space")  # into the table, select the first row
        assert "1 selected" in screen_text(app)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        details = app.screen
        await until(pilot, lambda: details.tabs_loaded)
        assert "Created 1 invoice association." in toasts(app)
        source = details.panes["associations"]._shown[0]
        rows = [r.target for r in source.fetch(0, 10)]
        assert rows == ["Invoice INV-101"]
        # The Associations tab is in front, its new row naming the client and the matter.
        assert details.query_one(TabbedContent).active == "associations-tab"
        await until(pilot, lambda: "Granite Ltd" in screen_text(app))
        assert "M-100-2 Tax planning" in screen_text(app)
        preview = details.panes["preview"]._shown[0]
        assert [i.invoice_number for i in preview.fetch(0, 10)] == ["INV-101"]
    assert associations(services, payer) == {(None, None, book["g2"].id)}


async def test_space_right_behind_down_selects_in_the_table(
    make_app, staff, services, admin, add_payer, book
):
    """Down and space arriving at once (one packet over SSH) select the first row: the space
    used to go into the search box while the focus was still moving."""
    connect(services, admin)
    payer = add_payer("Ada Lovelace", "ada@example.com")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        await pilot.press(*"granite")
        await settled(pilot, screen)
        for key, character in (("down", None), ("space", " ")):
            app.post_message(events.Key(key, character))
        await until(pilot, lambda: "1 selected" in screen_text(app))
        assert screen.query_one("#search", Input).value == "granite"
        assert screen.focused is screen.table


async def test_select_all_covers_every_page_and_space_unselects(
    make_app, staff, services, admin, add_payer, firm
):
    connect(services, admin)
    for i in range(120):  # more than two pages of 50
        firm.invoice(f"W-{i:03d}", client=f"K{i % 4}", client_name="Wide Co", matter=None)
    firm.invoice("N-1", client="Z1", client_name="Narrow Ltd", matter=None)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        await pilot.press(*"wide", "down")
        await settled(pilot, screen)
        assert screen.table.row_count == 120
        loaded = len(shown(screen))
        assert loaded < 120  # only some pages were ever fetched
        await pilot.press("ctrl+a")
        await until(pilot, lambda: "120 selected (all matching)" in screen_text(app))
        first = screen.table.highlighted
        await pilot.press("space")  # unselect one of them
        await until(pilot, lambda: "119 selected" in screen_text(app))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        assert "Created 119 invoice associations." in toasts(app)
    made = associations(services, payer)
    assert len(made) == 119
    assert first is not None and (None, None, first.invoice_id) not in made


async def test_ctrl_a_works_from_the_search_box_and_again_clears(
    make_app, staff, services, admin, add_payer, book
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        assert isinstance(screen.focused, Input)
        await pilot.press("ctrl+a")
        await until(pilot, lambda: "3 selected (all matching)" in screen_text(app))
        assert screen.query_one("#search", Input).value == ""
        await pilot.press("ctrl+a")
        await until(pilot, lambda: "0 selected" in screen_text(app))
        await pilot.press("ctrl+a", *"granite")  # all of "everything", then a narrower search
        await settled(pilot, screen)
        assert "0 selected" in screen_text(app)  # what was all is no longer what is shown
        assert "select-all was cleared" in toasts(app)[-1]
        await pilot.press("escape", "c")  # escape: from the box to the table
        assert "Select invoices first" in toasts(app)[-1]
        assert isinstance(app.screen, AddAssociationsScreen)
        await pilot.press("escape")  # from the table: back, nothing created
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
    assert associations(services, payer) == set()


async def test_level_key_creates_matter_and_client_associations(
    make_app, staff, services, admin, add_payer, book
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        await pilot.press(*"m-100-1", "enter")  # enter: from the box to the table
        await settled(pilot, screen)
        await pilot.press("space", "l")
        assert "Level matter" in screen_text(app)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AddAssociationsScreen))
        screen = app.screen
        await settled(pilot, screen)
        await pilot.press(*"birch", "down")
        await settled(pilot, screen)
        await pilot.press("space", "l", "l")
        assert "Level whole client" in screen_text(app)
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
    assert associations(services, payer) == {
        (None, book["g1"].matter_id, None),
        (book["b1"].client_id, None, None),
    }


async def test_filters_by_key_and_field(make_app, staff, services, admin, add_payer, book):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        await pilot.press("escape", "t")  # source: internal
        await settled(pilot, screen)
        assert shown(screen) == ["INV-101"]
        await pilot.press("t", "t", "t")  # connect, external, all
        await settled(pilot, screen)
        assert "Source all" in screen_text(app)
        assert shown(screen) == ["INV-200", "INV-101", "INV-100"]
        await pilot.press("o")  # open only
        await settled(pilot, screen)
        assert shown(screen) == ["INV-200", "INV-100"]
        await pilot.press("o")  # paid only
        await settled(pilot, screen)
        assert shown(screen) == ["INV-101"]
        await pilot.press("o", "slash", "tab", *"c-1")  # both; the client field
        await settled(pilot, screen)
        assert shown(screen) == ["INV-101", "INV-100"]
        await pilot.press("tab", *"tax")  # the matter field
        await settled(pilot, screen)
        assert shown(screen) == ["INV-101"]
        for _ in "tax":
            await pilot.press("backspace")
        await pilot.press("shift+tab")
        for _ in "c-1":
            await pilot.press("backspace")
        await pilot.press("tab", "tab", *"2026-02-01", "tab", *"2026-03-01")
        await settled(pilot, screen)
        assert shown(screen) == ["INV-101"]
        await pilot.press("escape", "s")  # sort by the next column after date: amount
        await settled(pilot, screen)
        assert screen.sort.column.value == "amount"
        await pilot.press("r")
        await settled(pilot, screen)
        assert not screen.sort.descending


async def test_a_bad_date_is_a_one_line_error(make_app, staff, services, admin, add_payer, book):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        error = screen.query_one("#filter-error")
        await pilot.press("tab", "tab", "tab", *"2026-02")  # a date being typed
        await settled(pilot, screen)
        assert not error.display
        await pilot.press(*"-30")  # whole, but no such day
        await settled(pilot, screen)
        assert error.display
        assert "'2026-02-30' is not a date" in screen_text(app)
        assert shown(screen) == ["INV-200", "INV-101", "INV-100"]  # the bound is not applied
        await pilot.press("backspace", "backspace", *"01")
        await settled(pilot, screen)
        assert not error.display
        assert shown(screen) == ["INV-200", "INV-101"]
        await pilot.press("tab", *"13")  # a bad bound left behind is reported too
        await pilot.press("shift+tab")
        await settled(pilot, screen)
        assert "To: '13' is not a date" in screen_text(app)


async def test_remove_asks_first(make_app, staff, services, admin, add_payer, book):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    ids = frozenset({book["g1"].id})
    services.associations.create(admin, payer, Level.MATTER, Selection(invoice_ids=ids))
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.press("x")  # not on the Associations tab: nothing happens
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("2")
        await until(pilot, lambda: "1 association:" in screen_text(app))
        assert "x Remove" in screen_text(app)
        await pilot.press("x")
        asked = await dialog(app, pilot)
        assert "Ada Lovelace will no longer see Matter M-100-1 Lease review" in dialog_text(asked)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen)
        assert len(associations(services, payer)) == 1
        await pilot.press("x")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: "0 associations:" in screen_text(app))
        assert "Removed Matter M-100-1 Lease review." in toasts(app)
    assert associations(services, payer) == set()
    with services.db.read() as session:
        assert session.scalar(
            select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)
        ) == ("association.remove")


async def test_an_agent_may_look_but_not_add_or_remove(
    make_app, agent, services, admin, add_payer, book
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    ids = frozenset({book["g1"].id})
    services.associations.create(admin, payer, Level.INVOICE, Selection(invoice_ids=ids))
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_details(app, pilot, payer)
        await pilot.press("2", "x")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, PayerDetailsScreen)
        assert sum("create and remove associations" in t for t in toasts(app)) == 2
    assert len(associations(services, payer)) == 1


async def test_a_click_on_a_header_sorts_and_a_second_reverses(
    make_app, staff, services, admin, add_payer, book
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        header = screen.table.region
        widths = screen.table._column_widths(screen.table.scrollable_content_region.width)
        invoice_x = sum(w + 1 for w in widths[:4]) + 1  # inside the fifth column, Invoice
        await pilot.click(offset=(header.x + invoice_x, header.y))
        await settled(pilot, screen)
        assert (screen.sort.column.value, screen.sort.descending) == ("invoice", False)
        assert shown(screen) == ["INV-100", "INV-101", "INV-200"]
        assert "▲Invoice" in screen_text(app)
        await pilot.click(offset=(header.x + invoice_x, header.y))
        await settled(pilot, screen)
        assert shown(screen) == ["INV-200", "INV-101", "INV-100"]
        assert "▼Invoice" in screen_text(app)
        await pilot.click(offset=(header.x + 0, header.y))  # the marks: no sort
        await settled(pilot, screen)
        assert screen.sort.column.value == "invoice"


async def test_a_second_c_while_creating_is_ignored(
    make_app, staff, services, admin, add_payer, book, monkeypatch
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    gate = threading.Event()
    create = services.associations.create

    def held_create(*args: Any, **kwargs: Any) -> Any:
        gate.wait(5)  # the real create, held until the second "c" has been pressed
        return create(*args, **kwargs)

    monkeypatch.setattr(services.associations, "create", held_create)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        await pilot.press("down", "space", "c")
        await until(pilot, lambda: "creating…" in screen_text(app))
        await pilot.press("c")
        await settle_before_checking_nothing_happened(pilot, 0.1)  # the second "c" is ignored
        gate.set()
        await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
        await settle_before_checking_nothing_happened(pilot, 0.3)
        assert [t for t in toasts(app) if "Created" in t] == ["Created 1 invoice association."]
        assert screen.creating is False
    assert len(associations(services, payer)) == 1


async def test_removing_keeps_the_place_in_a_long_list(
    make_app, staff, services, admin, firm, add_payer
):
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    made = [firm.invoice(f"L-{i:03d}", client="L1", matter=None) for i in range(130)]
    for invoice in made:  # one at a time: newest first is L-129 … L-000
        services.associations.create(
            admin, payer, Level.INVOICE, Selection(invoice_ids=frozenset({invoice.id}))
        )
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        await pilot.press("2")
        await until(pilot, lambda: "130 associations:" in screen_text(app))
        table = screen.panes["associations"].table
        table.focus()
        await pilot.press("end", "up")  # the second page: L-001, next to the oldest
        await until(pilot, lambda: table.highlighted is not None)
        assert table.highlighted.target == "Invoice L-001"
        await pilot.press("x")
        await dialog(app, pilot)
        await pilot.press("y")
        await until(pilot, lambda: "129 associations:" in screen_text(app))
        await until(pilot, lambda: table.highlighted is not None)
        assert table.cursor_row == 128  # the same place: now the oldest, L-000
        assert table.highlighted.target == "Invoice L-000"
    assert len(associations(services, payer)) == 129


async def test_the_sort_mark_shows_on_a_narrow_column(
    make_app, staff, services, admin, add_payer, book
):
    """At 80 columns the matter and description labels are cut short: the sort mark leads."""
    connect(services, admin)
    payer = add_payer("Ada Lovelace")
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_add_screen(app, pilot, payer)
        await pilot.press("escape")
        # From date: amount, balance, source, client, matter, description.
        for expected in ("amount", "balance", "source", "client", "matter", "description"):
            await pilot.press("s")
            await settled(pilot, screen)
            assert screen.sort.column.value == expected
        header = screen_text(app).splitlines()[4]
        assert "▲Desc" in header, header
        await pilot.press("r")
        await settled(pilot, screen)
        assert "▼Desc" in screen_text(app).splitlines()[4]
