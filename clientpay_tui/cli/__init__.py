"""The ``clientpay-tui`` command line.

Expected failures (bad input, unreachable database, outdated schema) end with one line on
stderr and exit status 1 (2 for a mistyped command line); only bugs show a traceback.
"""

from __future__ import annotations

import sys

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.cli.data import import_group, integration_group, seed_command
from clientpay_tui.cli.db import db_group
from clientpay_tui.cli.run import demo_command, run_app
from clientpay_tui.cli.staff import staff_group
from clientpay_tui.cli.worker import worker_command
from clientpay_tui.errors import ClientPayError
from clientpay_tui.text import one_line


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=__import__("pathlib").Path),
    help="TOML settings file (default: the user config directory's config.toml).",
)
@click.version_option(package_name="clientpay-tui")
@click.pass_context
def cli(ctx: click.Context, config_file: object) -> None:
    """Manage who may sign in to the payer portal and what each payer sees.

    Without a command, runs the app on the configured database (sign in first).
    """
    ctx.obj = CliContext(config_file)  # type: ignore[arg-type]
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        run_app(ctx.obj.services, ctx.obj.settings)


cli.add_command(db_group)
cli.add_command(staff_group)
cli.add_command(integration_group)
cli.add_command(import_group)
cli.add_command(seed_command)
cli.add_command(demo_command)
cli.add_command(worker_command)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    try:
        cli.main(args=argv, prog_name="clientpay-tui", standalone_mode=False)
    except ClientPayError as error:
        click.echo(f"clientpay-tui: error: {one_line(error, 500)}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("clientpay-tui: aborted", err=True)
        sys.exit(130)
    except click.UsageError as error:
        # One line, like every other error: what was wrong and where to look.
        command = error.ctx.command_path if error.ctx else "clientpay-tui"
        message = one_line(error.format_message(), 500)
        click.echo(f"{command}: error: {message} (see '{command} --help')", err=True)
        sys.exit(error.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
