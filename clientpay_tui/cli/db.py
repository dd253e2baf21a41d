"""``clientpay-tui db …``: schema migrations."""

from __future__ import annotations

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.db import schema


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade(obj: CliContext) -> None:
    """Migrate the database to the schema this version needs."""
    before, after = schema.upgrade(obj.db)
    if before == after:
        click.echo(f"{obj.db.display_url}: already at {after}")
    else:
        click.echo(f"{obj.db.display_url}: upgraded from {before or 'empty'} to {after}")


@db_group.command("current")
@click.pass_obj
def current(obj: CliContext) -> None:
    """Show the database's schema revision and the one this version needs."""
    click.echo(f"database: {schema.current_revision(obj.db) or 'empty'}")
    click.echo(f"needed:   {schema.head_revision()}")
