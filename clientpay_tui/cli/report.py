"""``clientpay-tui report``: reports for auditors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext

STATUSES = ["None", "Invited", "Active", "Locked", "Email failed"]
"""The payer list's login statuses (:class:`~clientpay_tui.services.payers.AccessStatus`),
spelt out here so that ``--help`` loads no services."""


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
    type=click.Path(path_type=Path),  # a folder is refused in one line by the service
    help="Write to FILE instead of standard output.",
)
@click.option("--search", default="", help="Only payers the payer list's search finds.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES, case_sensitive=False),
    help="Only payers with this login status (repeat for several).",
)
@click.pass_obj
def access_command(
    obj: CliContext, fmt: str, output: Path | None, search: str, statuses: tuple[str, ...]
) -> None:
    """Access review: every payer's login status, invitation, sign-in, MFA, associations by
    level, visible invoices and open balance (audited)."""
    from clientpay_tui.services.payers import AccessStatus

    by_name = {status.value.casefold(): status for status in AccessStatus}
    wanted = {by_name[name.casefold()] for name in statuses} if statuses else None
    review = obj.services.access_review
    if output is None:
        review.export(obj.actor, sys.stdout, fmt, text=search, statuses=wanted)
        return
    count = review.export_to_file(obj.actor, output, fmt, text=search, statuses=wanted)
    click.echo(f"{count:,} payers written to {output}", err=True)
