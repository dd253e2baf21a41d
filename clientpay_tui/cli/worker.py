"""``clientpay-tui worker``: deliver queued email without a UI.

For sites where many staff sessions share one database: the worker runs next to them (each app
session also delivers what it queues; claims keep every email to one sender). Like every
sender, it queues the reminders of invitations not accepted after ``invite_reminder_days``.
It prints one line per delivery attempt and stops cleanly on Ctrl+C, SIGTERM or SIGHUP (a
dropped SSH session): the email being sent finishes and its result is stored (the database
gets a few seconds if it is away), and any other claimed email goes back to the queue.
"""

from __future__ import annotations

import asyncio
import signal

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.mail.delivery import DeliveryResult, Outcome
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.text import one_line


@click.command("worker")
@click.option(
    "--poll",
    type=click.FloatRange(min=0.05),
    default=5.0,
    show_default=True,
    help="Seconds between looks for email queued by other processes.",
)
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.pass_obj
def worker_command(obj: CliContext, poll: float, once: bool) -> None:
    """Deliver queued email until interrupted (Ctrl+C, SIGTERM or SIGHUP)."""
    services = obj.services  # checks that the schema is current
    sender = SmtpSender(
        services.db,
        services.settings,
        poll_seconds=poll,
        chores=services.reminders.queue_due,  # the invitation reminders
    )
    settings = services.settings
    click.echo(
        f"worker {sender.name}: delivering via {settings.smtp_host}:{settings.smtp_port} "
        f"({settings.smtp_security}) from {services.db.display_url}",
        err=True,
    )
    asyncio.run(_serve(sender, once))
    click.echo(f"worker {sender.name}: stopped", err=True)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


async def _serve(sender: SmtpSender, once: bool) -> None:
    loop = asyncio.get_running_loop()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, sender.stop)
    try:
        if once:
            await sender.deliver_due(_log)
        else:
            await sender.run(_log)
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


def _log(result: DeliveryResult) -> None:
    """One line per attempt: ``sent welcome #12 to a@example.com``."""
    what = f"{result.kind.value} #{result.email_id} to {one_line(result.to_address, 120)}"
    if result.outcome is Outcome.SENT:
        line = f"sent    {what}"
    elif result.outcome is Outcome.RETRY:
        when = f"{result.next_attempt_at:%Y-%m-%d %H:%M:%S}Z" if result.next_attempt_at else "?"
        line = f"retry   {what} at {when}: {one_line(result.error, 300)}"
    else:
        line = f"failed  {what}: {one_line(result.error, 300)}"
    click.echo(line)
