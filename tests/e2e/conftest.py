"""The database an administrator sets up before anyone runs the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientpay_tui.config import load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Role
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm
from tests.e2e.terminal import PASSWORD


@pytest.fixture
def firm_database(tmp_path: Path) -> str:
    """A database as an administrator would set it up with the command line."""
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    settings = load_settings(database_url=url)
    db = Database(url)
    schema.upgrade(db)
    services = Services(db, settings)
    admin = command_line_actor("e2e")
    services.staff.add(admin, "sam", Role.STAFF, PASSWORD)
    services.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
    services.payers.create(admin, PayerForm(name="Barbara Liskov", email="barbara@example.com"))
    db.dispose()
    return url
