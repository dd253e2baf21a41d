"""What every command needs, built on first use: settings, database, services.

The settings (pydantic), the database and the services (SQLAlchemy) are imported on first
use too: the app itself loads and opens them behind its first frame (``cli/run.py``).
"""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clientpay_tui.config import Settings
    from clientpay_tui.db.engine import Database
    from clientpay_tui.services.context import Actor
    from clientpay_tui.services.facade import Services


class CliContext:
    def __init__(self, config_file: Path | None) -> None:
        self.config_file = config_file
        self._settings: Settings | None = None
        self._db: Database | None = None
        self._services: Services | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from clientpay_tui.config import load_settings

            self._settings = load_settings(self.config_file)
        return self._settings

    @property
    def db(self) -> Database:
        """The configured database, without any schema check (``db upgrade`` uses this)."""
        if self._db is None:
            from clientpay_tui.db.engine import Database

            self._db = Database(self.settings.database_url)
        return self._db

    @property
    def services(self) -> Services:
        """Services on a database whose schema is current (created at head if empty)."""
        if self._services is None:
            from clientpay_tui.db import schema
            from clientpay_tui.services.facade import Services

            schema.ensure_current(self.db)
            self._services = Services(self.db, self.settings)
        return self._services

    @property
    def actor(self) -> Actor:
        from clientpay_tui.services.context import command_line_actor

        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = "unknown"
        return command_line_actor(user)

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()
