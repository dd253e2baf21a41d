"""Snapshot fixtures: the demo firm on SQLite, a frozen clock, no animation, no blinking."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from clientpay_tui.app import ClientPayApp
from clientpay_tui.config import load_settings
from clientpay_tui.db.engine import Database
from clientpay_tui.seeding import demo_data
from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from tests.conftest import FrozenClock
from tests.waiting import until_idle

SNAPSHOT_SETTINGS = {
    "firm_name": "Harbor & Finch LLP",
    "portal_url": "https://portal.harbor-finch.example",
    "mail_from": "Harbor & Finch Billing <billing@harbor-finch.example>",
}


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo data seeded once (seeding takes seconds, copying a file milliseconds); the data
    is the same on every run: seeded, frozen clock."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copy(sqlite_template, path)
    settings = load_settings(database_url=f"sqlite:///{path}", **SNAPSHOT_SETTINGS)
    db = Database(settings.database_url)
    demo_data.create_demo_data(Services(db, settings, FrozenClock()).ctx)
    db.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def demo_services(demo_template: Path, tmp_path: Path) -> Iterator[Services]:
    """The demo data, identical on every run (SQLite only: a snapshot shows the screen, not
    the backend)."""
    path = tmp_path / "snapshots.db"
    shutil.copy(demo_template, path)
    settings = load_settings(database_url=f"sqlite:///{path}", **SNAPSHOT_SETTINGS)
    db = Database(settings.database_url)
    yield Services(db, settings, FrozenClock())
    db.dispose()


def staff_actor(services: Services, username: str) -> Actor:
    return services.staff.sign_in(username, demo_data.DEMO_PASSWORD)


@pytest.fixture
def snapshot_app(demo_services: Services) -> Callable[..., ClientPayApp]:
    def make(username: str | None = "demo", **kwargs: Any) -> ClientPayApp:
        actor = staff_actor(demo_services, username) if username else None
        app = ClientPayApp(demo_services, actor=actor, handle_sighup=False, **kwargs)
        app.animation_level = "none"
        return app

    return make


async def settled(pilot: Pilot[Any]) -> None:
    """Wait for workers and screen switches, then stop every cursor blinking."""
    await until_idle(pilot)
    for widget in pilot.app.screen.query("Input, TextArea"):
        assert isinstance(widget, Input | TextArea)
        widget.cursor_blink = False
    await until_idle(pilot)  # and a repaint without the cursor


async def open_payer(pilot: Pilot[Any], payer_id: int) -> None:
    await settled(pilot)
    pilot.app.open_payer(payer_id)
    await settled(pilot)
    await settled(pilot)
