"""``clientpay-tui report``: reports for auditors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext


@click.group("report")
def report_group() -> None:
    """Reports for auditors (streamed: any number of payers)."""


@report_group.command("access")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="CSV (formulas neutralised for spreadsheets) or one JSON array.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
@click.option("--search", default="", help="Only payers the payer list's search finds.")
@click.pass_obj
def access_command(obj: CliContext, fmt: str, output: Path | None, search: str) -> None:
    """Access review: every payer's login status, invitation, sign-in, MFA, associations by
    level, visible invoices and open balance (audited)."""
    review = obj.services.access_review
    if output is None:
        review.export(obj.actor, sys.stdout, fmt, text=search)
        return
    count = review.export_to_file(obj.actor, output, fmt, text=search)
    click.echo(f"{count:,} payers written to {output}", err=True)
