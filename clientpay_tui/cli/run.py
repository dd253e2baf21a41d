"""``clientpay-tui`` (the app on the configured database) and ``clientpay-tui demo``.

Textual is imported only here, when the app really starts, so that the other commands stay
quick and so that ``ESCDELAY`` can be given a default before Textual reads it.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.config import Settings, data_dir, load_settings
from clientpay_tui.db import schema
from clientpay_tui.db.engine import Database
from clientpay_tui.services.facade import Services

SSH_ESCDELAY_MS = "300"
"""Over SSH an arrow key's bytes can arrive apart; Textual's default 100 ms wait for the rest
of an escape sequence then reads them as Escape plus text."""


def _prepare_terminal() -> None:
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        os.environ.setdefault("ESCDELAY", SSH_ESCDELAY_MS)


def run_app(services: Services, settings: Settings) -> None:
    """Run the app until the staff member quits (or the terminal goes away)."""
    _prepare_terminal()
    from clientpay_tui.app import ClientPayApp

    app = ClientPayApp(services)
    app.run(mouse=settings.mouse)


def demo_database(fresh: bool) -> Path:
    """The demo's SQLite file in the user data directory (removed first with ``fresh``)."""
    path = data_dir() / "demo.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    return path


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Throw the demo database away and create it anew.")
@click.pass_obj
def demo_command(obj: CliContext, fresh: bool) -> None:
    """The app on a demo database with seeded data, signed in as the demo admin."""
    from clientpay_tui.services import demo_data

    path = demo_database(fresh)
    settings = load_settings(
        obj.config_file,
        database_url=f"sqlite:///{path}",
        firm_name="Harbor & Finch LLP",
        portal_url="https://portal.harbor-finch.example",
        mail_from="Harbor & Finch Billing <billing@harbor-finch.example>",
    )
    db = Database(settings.database_url)
    try:
        schema.ensure_current(db)
        services = Services(db, settings)
        if not demo_data.has_demo_data(services.ctx):
            click.echo("Creating the demo data…", err=True)
            demo_data.create_demo_data(services.ctx)
        actor = demo_data.demo_admin(services.ctx)
        _prepare_terminal()
        from clientpay_tui.app import ClientPayApp

        app = ClientPayApp(services, actor=actor)
        app.run(mouse=settings.mouse)
    finally:
        db.dispose()
