"""``clientpay-tui integration|import|seed``: firm data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.db.models import IntegrationName
from clientpay_tui.seeding.seed import seed
from clientpay_tui.services.imports import ImportReport

INTEGRATIONS = click.Choice([name.value for name in IntegrationName])


@click.group("integration")
def integration_group() -> None:
    """Firm integrations (admin): connect, invoicing."""


@integration_group.command("enable")
@click.argument("name", type=INTEGRATIONS)
@click.pass_obj
def enable(obj: CliContext, name: str) -> None:
    """Enable an integration."""
    changed = obj.services.integrations.set_enabled(obj.actor, IntegrationName(name), True)
    click.echo(f"{name}: enabled" if changed else f"{name}: already enabled")


@integration_group.command("disable")
@click.argument("name", type=INTEGRATIONS)
@click.pass_obj
def disable(obj: CliContext, name: str) -> None:
    """Disable an integration."""
    changed = obj.services.integrations.set_enabled(obj.actor, IntegrationName(name), False)
    click.echo(f"{name}: disabled" if changed else f"{name}: already disabled")


@integration_group.command("list")
@click.pass_obj
def list_integrations(obj: CliContext) -> None:
    """Show which integrations are enabled."""
    enabled = obj.services.integrations.enabled(obj.actor)
    for name in IntegrationName:
        click.echo(f"{name.value:<10} {'enabled' if name in enabled else 'disabled'}")


@click.group("import")
def import_group() -> None:
    """Import payers or invoices from CSV files."""


KEEP = click.option(
    "--keep-good-rows",
    is_flag=True,
    help="Import the good rows when some are bad (default: refuse the whole file).",
)
FILE = click.argument("file", type=click.Path(path_type=Path))


def import_summary(report: ImportReport) -> str:
    """One line that says what was kept; a refused file names the flag that keeps the rest."""
    if report.refused:
        return (
            f"refused the whole file: {report.error_count} bad row(s), nothing imported "
            "(use --keep-good-rows to import the good rows)"
        )
    text = f"imported {report.imported} {report.what}"
    if report.updated:
        text += f", updated {report.updated}"
    if report.already_there:
        text += f"; {report.already_there} already there (same name and email), left as they were"
    if report.error_count:
        text += f"; skipped {report.error_count} bad row(s)"
    return text


def _finish(report: ImportReport) -> None:
    for error in report.errors:
        click.echo(f"  {error}", err=True)
    if report.error_count > len(report.errors):
        click.echo(f"  … and {report.error_count - len(report.errors)} more", err=True)
    if report.error_count:
        click.echo(f"clientpay-tui: error: {import_summary(report)}", err=True)
        sys.exit(1)
    click.echo(import_summary(report))


@import_group.command("payers")
@FILE
@KEEP
@click.pass_obj
def import_payers(obj: CliContext, file: Path, keep_good_rows: bool) -> None:
    """Payers from FILE.csv: columns name,email and optional phone,notes."""
    _finish(obj.services.imports.payers(obj.actor, file, keep_good_rows=keep_good_rows))


@import_group.command("invoices")
@FILE
@KEEP
@click.pass_obj
def import_invoices(obj: CliContext, file: Path, keep_good_rows: bool) -> None:
    """Invoices from FILE.csv: client_number, client_name, matter_number, matter_description,
    invoice_number, invoice_date, amount, balance, source."""
    _finish(obj.services.imports.invoices(obj.actor, file, keep_good_rows=keep_good_rows))


@click.command("seed")
@click.option("--payers", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--invoices", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Random seed.")
@click.pass_obj
def seed_command(obj: CliContext, payers: int, invoices: int, seed_value: int) -> None:
    """Add synthetic payers, clients, matters and invoices (for trying the app at scale)."""
    report = seed(obj.services.ctx, obj.actor, payers=payers, invoices=invoices, seed=seed_value)
    click.echo(report.summary())
