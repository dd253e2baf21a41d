"""Property: whatever text a payer, client or matter holds, no screen runs it as markup or
writes a control character to the terminal.

The texts are stored raw, as an older version or another tool might have written them (the
services clean what they store), so this checks the display side on its own.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from textual.widgets import Input

from clientpay_tui.db.models import Client, Invoice, InvoiceSource, Matter, Payer
from clientpay_tui.screens.payer_details import PayerDetailsScreen
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.validation import search_key
from clientpay_tui.text import printable
from clientpay_tui.widgets.textual_compat import screen_lines
from tests.tui.conftest import connect, dialog, dialog_text, open_details, until
from tests.unit.hostile.conftest import hostile_text

# What any byte stream to the terminal must not carry from data: C0 (tab and line feed are
# laid out by the compositor, never written), DEL and C1 (0x9b is a one-byte CSI).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# NUL and lone surrogates cannot be stored at all (PostgreSQL text, UTF-8), so no older
# version could have left them there.
storable = hostile_text.map(lambda s: re.sub(r"[\x00\ud800-\udfff]", "", s))

_serial = itertools.count()


def _store(services: Any, admin: Any, name: str, other: str) -> int:
    """A payer named ``name`` (raw) with notes ``other``, covered by a client association
    whose client name and matter description are ``other`` too."""
    n = next(_serial)
    form = PayerForm(name=f"Placeholder {n}", email=f"hostile{n}@example.com")
    payer_id = services.payers.create(admin, form).id
    with services.db.write() as session:
        payer = session.get(Payer, payer_id)
        payer.name, payer.notes = name, other
        client = Client(
            number=f"H{n:05}", number_key=f"h{n:05}", name=other, name_key=search_key(other)
        )
        session.add(client)
        session.flush()
        matter = Matter(
            client_id=client.id,
            number=f"H{n:05}-1",
            number_key=f"h{n:05}-1",
            description=other,
            description_key=search_key(other),
        )
        session.add(matter)
        session.flush()
        invoice = Invoice(
            client_id=client.id,
            matter_id=matter.id,
            number=f"HI{n:05}",
            number_key=f"hi{n:05}",
            invoice_date=date(2026, 1, 1),
            amount_cents=100,
            balance_cents=100,
            source=InvoiceSource.CONNECT,
        )
        session.add(invoice)
        session.flush()
        invoice_id = invoice.id
    services.associations.create(
        admin, payer_id, Level.CLIENT, Selection(invoice_ids=frozenset({invoice_id}))
    )
    return payer_id


def _assert_terminal_safe(app: Any, where: str) -> None:
    """Every row the compositor would write holds no control character."""
    for y, line in enumerate(screen_lines(app)):
        match = CONTROL.search(line)
        assert match is None, f"{where}, row {y}: control {match.group()!r} on screen"


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(name=storable, other=storable)
def test_any_stored_text_renders_literally_and_without_control_characters(
    make_app, staff, services, admin, name, other
):
    connect(services, admin)
    payer_id = _store(services, admin, name, other)

    async def visit() -> None:
        app = make_app(staff)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await app.screen.table.wait_loaded()
            _assert_terminal_safe(app, "payer list")
            screen = await open_details(app, pilot, payer_id)
            # Shown as typed: markup would have lost its brackets, controls would be there.
            assert screen.query_one("#name", Input).value == printable(name)
            _assert_terminal_safe(app, "payer information")
            for tab in range(2, 7):
                await pilot.press(str(tab))
                await pilot.pause()
                _assert_terminal_safe(app, f"tab {tab}")
            await pilot.press("l")
            confirm = await dialog(app, pilot)
            # The dialog lays out a message of several lines: a line feed in a stored name
            # breaks the line there, and nothing else of it is lost or interpreted.
            assert printable(name, multiline=True) in dialog_text(confirm)
            _assert_terminal_safe(app, "grant dialog")
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, PayerDetailsScreen))
            assert app.is_running

    asyncio.run(visit())
