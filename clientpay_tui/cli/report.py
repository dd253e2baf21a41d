"""``clientpay-tui report``: reports for auditors."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext

STATUSES = ["No login", "Invited", "Invite expired", "Active", "Locked", "Email failed", "None"]
"""The payer list's status filters (:class:`~clientpay_tui.services.payer_status.StatusFilter`),
spelt out here so that ``--help`` loads no services; ``None`` (the list's column) is
*No login*."""


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
    help="Only payers the payer list's login filter shows (repeat for several).",
)
@click.pass_obj
def access_command(
    obj: CliContext, fmt: str, output: Path | None, search: str, statuses: tuple[str, ...]
) -> None:
    """Access review: every payer's login status, invitation, sign-in, MFA, associations by
    level, visible invoices and open balance (audited)."""
    from clientpay_tui.services.payer_status import StatusFilter

    by_name = {status.value.casefold(): status for status in StatusFilter}
    by_name["none"] = StatusFilter.NO_LOGIN
    wanted = {by_name[name.casefold()] for name in statuses} if statuses else None
    review = obj.services.access_review
    if output is None:
        review.export(obj.actor, sys.stdout, fmt, text=search, statuses=wanted)
        return
    count = review.export_to_file(obj.actor, output, fmt, text=search, statuses=wanted)
    click.echo(f"{count:,} payers written to {output}", err=True)
