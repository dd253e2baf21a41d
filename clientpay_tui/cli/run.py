"""``clientpay-tui`` (the app on the configured database) and ``clientpay-tui demo``.

Textual is imported only here, when the app really starts, so that the other commands stay
quick and so that ``ESCDELAY`` and ``TEXTUAL_FPS`` can be given defaults before Textual reads
them. The settings, the database, the services and the mail sender are imported and opened by
:func:`open_configured`, which the app runs in a thread behind its first frame (the sign-in
screen): a cold start costs only click and Textual. The demo's capture server (aiosmtpd) is
imported only by the demo.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.early_settings import data_dir, read_early_settings
from clientpay_tui.errors import ConfigError
from clientpay_tui.ssh_auth import VerifiedKeys, keys_sshd_verified
from clientpay_tui.terminal import require_terminal

if TYPE_CHECKING:
    from clientpay_tui.app import ClientPayApp, Opened

SSH_ESCDELAY_MS = "300"
"""Over SSH an arrow key's bytes can arrive apart; Textual's default 100 ms wait for the rest
of an escape sequence then reads them as Escape plus text."""
FRAME_RATE = "120"
"""Textual draws a screen's changes on a fixed grid of frames (60 a second by default): rows
that arrive just after a frame wait up to 17 ms for the next one, on every search. At 120 the
wait is at most 8 ms; frames are still drawn only when something changed (bench/RESULTS.md,
stop 14)."""
DEMO_ACCOUNTS = ("demo", "sam", "alex")
"""The demo's staff accounts (``seeding.demo_data.DEMO_STAFF``, not imported here: the CLI
starts without the services)."""
DEMO_FIRM = {
    "firm_name": "Harbor & Finch LLP",
    "portal_url": "https://portal.harbor-finch.example",
    "mail_from": "Harbor & Finch Billing <billing@harbor-finch.example>",
    "payment_gateway": "test",  # the demo's payments use the test gateway: no money moves
}


def _prepare_terminal() -> None:
    os.environ.setdefault("TEXTUAL_FPS", FRAME_RATE)
    if os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_TTY"):
        os.environ.setdefault("ESCDELAY", SSH_ESCDELAY_MS)


async def _run(app: ClientPayApp, *, mouse: bool) -> None:
    await app.run_async(mouse=mouse)
    if app.startup_error is not None:
        raise app.startup_error
    if app.return_code:
        sys.exit(app.return_code)


def open_configured(config_file: Path | None, ssh: VerifiedKeys | None = None) -> Opened:
    """Load the settings and open the configured database for the app (in its thread, behind
    the sign-in screen): schema current, at least one staff account, and the mail sender.

    Args:
        ssh: the keys sshd verified for this login: with ``ssh_key_sign_in`` on, the staff
            member one of them is linked to is signed in (a file not believed is audited).
    """
    from clientpay_tui.app import Opened
    from clientpay_tui.config import load_settings
    from clientpay_tui.db import schema
    from clientpay_tui.db.engine import Database
    from clientpay_tui.mail.sender import SmtpSender
    from clientpay_tui.services.context import command_line_actor
    from clientpay_tui.services.facade import Services

    settings = load_settings(config_file)
    db = Database(settings.database_url)
    try:
        schema.ensure_current(db)
        services = Services(db, settings)
        if not services.staff.list(command_line_actor("setup")):
            raise ConfigError(
                "no staff accounts yet: create one with `clientpay-tui staff add NAME --role admin`"
            )
        # SmtpSender refuses a malformed mail_from; its chores send the invite reminders.
        sender = SmtpSender(db, settings, chores=services.reminders.queue_due)
        if ssh is not None and ssh.refused:
            services.staff_keys.auth_file_refused(ssh.refused)
        key_actor = services.staff_keys.sign_in(ssh.fingerprints) if ssh is not None else None
        return Opened(services, sender, key_actor=key_actor)
    except BaseException:
        db.dispose()
        raise


def run_app(config_file: Path | None) -> None:
    """Run the app on the configured database until the staff member quits (or the
    terminal goes away). Errors found while opening it end the app with one line."""
    require_terminal()
    early = read_early_settings(config_file)
    # Now, while sshd still has the file (it goes when the connection closes).
    ssh = keys_sshd_verified() if early.ssh_key_sign_in else None
    _prepare_terminal()
    from clientpay_tui.app import ClientPayApp

    app = ClientPayApp(
        firm_name=early.firm_name,
        open_services=lambda: open_configured(config_file, ssh),
        checking_key=ssh is not None and bool(ssh.fingerprints),
    )
    try:
        asyncio.run(_run(app, mouse=early.mouse))
    finally:
        if app.services is not None:
            app.services.db.dispose()


def demo_paths(fresh: bool) -> tuple[Path, Path]:
    """The demo's SQLite file and captured-mail folder in the user data directory (emptied
    first with ``fresh``)."""
    path, mail = data_dir() / "demo.db", data_dir() / "demo-mail"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        shutil.rmtree(mail, ignore_errors=True)
    return path, mail


async def _run_demo(config_file: Path | None, path: Path, mail: Path, username: str) -> None:
    """The app, the real SMTP sender, and the capture server it sends to, on one loop."""
    from clientpay_tui.app import ClientPayApp
    from clientpay_tui.config import load_settings
    from clientpay_tui.db import schema
    from clientpay_tui.db.engine import Database
    from clientpay_tui.mail.capture import CaptureServer, list_captured
    from clientpay_tui.mail.sender import SmtpSender
    from clientpay_tui.portal.web.embedded import EmbeddedPortal
    from clientpay_tui.seeding import demo_data
    from clientpay_tui.services.facade import Services

    portal_log = mail.parent / "demo-portal.log"
    async with CaptureServer(mail) as capture, EmbeddedPortal(portal_log) as portal:
        settings = load_settings(
            config_file,
            database_url=f"sqlite:///{path}",
            **{**DEMO_FIRM, "portal_url": portal.url},
            **capture.settings_overrides(),
        )
        db = Database(settings.database_url)
        try:
            schema.ensure_current(db)
            services = Services(db, settings)
            if not demo_data.has_demo_data(services.ctx):
                click.echo("Creating the demo data…", err=True)
                await asyncio.to_thread(demo_data.create_demo_data, services.ctx)
            portal.start(services)
            await portal.started()
            app = ClientPayApp(
                services,
                SmtpSender(db, settings, chores=services.reminders.queue_due),
                actor=demo_data.demo_actor(services.ctx, username),
                captured_mail=lambda: list_captured(mail, limit=200),
                sign_in_hint=demo_data.sign_in_hint(),
            )
            await _run(app, mouse=settings.mouse)
        finally:
            db.dispose()


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Throw the demo database away and create it anew.")
@click.option(
    "--as",
    "username",
    type=click.Choice(DEMO_ACCOUNTS),
    default=DEMO_ACCOUNTS[0],
    show_default=True,
    help="Sign in as the demo admin, sam (staff) or alex (agent: view and resend only).",
)
@click.pass_obj
def demo_command(obj: CliContext, fresh: bool, username: str) -> None:
    """The app on a demo database with seeded data, signed in as the demo admin (or --as
    sam / alex, to see what the other roles see); what it sends goes to a local mail server
    and shows on the Mail screen. The palette's Sign out (ctrl+p) switches account."""
    require_terminal()
    path, mail = demo_paths(fresh)
    _prepare_terminal()
    asyncio.run(_run_demo(obj.config_file, path, mail, username))
