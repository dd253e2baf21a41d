"""``clientpay-tui`` (the app on the configured database) and ``clientpay-tui demo``.

Textual is imported only here, when the app really starts, so that the other commands stay
quick and so that ``ESCDELAY`` can be given a default before Textual reads it.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.config import Settings, data_dir, load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.errors import ConfigError
from clientpay_tui.services.context import command_line_actor
from clientpay_tui.services.facade import Services

if TYPE_CHECKING:
    from clientpay_tui.app import ClientPayApp

SSH_ESCDELAY_MS = "300"
"""Over SSH an arrow key's bytes can arrive apart; Textual's default 100 ms wait for the rest
of an escape sequence then reads them as Escape plus text."""
DEMO_FIRM = {
    "firm_name": "Harbor & Finch LLP",
    "portal_url": "https://portal.harbor-finch.example",
    "mail_from": "Harbor & Finch Billing <billing@harbor-finch.example>",
}


def _prepare_terminal() -> None:
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        os.environ.setdefault("ESCDELAY", SSH_ESCDELAY_MS)


async def _run(app: ClientPayApp, settings: Settings) -> None:
    await app.run_async(mouse=settings.mouse)
    if app.return_code:
        sys.exit(app.return_code)


def run_app(services: Services, settings: Settings) -> None:
    """Run the app on the configured database until the staff member quits (or the
    terminal goes away)."""
    if not services.staff.list(command_line_actor("setup")):
        raise ConfigError(
            "no staff accounts yet: create one with `clientpay-tui staff add NAME --role admin`"
        )
    _prepare_terminal()
    from clientpay_tui.app import ClientPayApp

    asyncio.run(_run(ClientPayApp(services), settings))


def demo_database(fresh: bool) -> Path:
    """The demo's SQLite file in the user data directory (removed first with ``fresh``)."""
    path = data_dir() / "demo.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    return path


async def _run_demo(config_file: Path | None, path: Path) -> None:
    from clientpay_tui.app import ClientPayApp
    from clientpay_tui.services import demo_data

    settings = load_settings(config_file, database_url=f"sqlite:///{path}", **DEMO_FIRM)
    db = Database(settings.database_url)
    try:
        schema.ensure_current(db)
        services = Services(db, settings)
        if not demo_data.has_demo_data(services.ctx):
            click.echo("Creating the demo data…", err=True)
            await asyncio.to_thread(demo_data.create_demo_data, services.ctx)
        actor = demo_data.demo_admin(services.ctx)
        await _run(ClientPayApp(services, actor=actor), settings)
    finally:
        db.dispose()


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Throw the demo database away and create it anew.")
@click.pass_obj
def demo_command(obj: CliContext, fresh: bool) -> None:
    """The app on a demo database with seeded data, signed in as the demo admin."""
    path = demo_database(fresh)
    _prepare_terminal()
    asyncio.run(_run_demo(obj.config_file, path))
