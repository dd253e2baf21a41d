"""The ``clientpay-tui`` command line.

Expected failures (bad input, unreachable database, outdated schema) end with one line on
stderr and exit status 1 (2 for a mistyped command line); only bugs show a traceback.

Sub-commands are imported when they are run (or listed by ``--help``): the app itself, which
runs without one, starts with only click and the settings loaded.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from clientpay_tui.cli.context import CliContext
from clientpay_tui.errors import ClientPayError
from clientpay_tui.text import one_line

SUB_COMMANDS = {
    "db": "clientpay_tui.cli.db:db_group",
    "staff": "clientpay_tui.cli.staff:staff_group",
    "integration": "clientpay_tui.cli.data:integration_group",
    "import": "clientpay_tui.cli.data:import_group",
    "seed": "clientpay_tui.cli.data:seed_command",
    "demo": "clientpay_tui.cli.run:demo_command",
    "worker": "clientpay_tui.cli.worker:worker_command",
    "portal": "clientpay_tui.cli.portal:portal_command",
    "report": "clientpay_tui.cli.report:report_group",
}
"""Name -> ``module:attribute`` of each sub-command."""


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use (click's documented pattern)."""

    def __init__(self, *args: object, lazy_commands: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_commands and cmd_name not in self.commands:
            module, _, attribute = self.lazy_commands[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command) and command.name == cmd_name
            self.add_command(command)
        return super().get_command(ctx, cmd_name)


@click.group(
    cls=LazyGroup,
    lazy_commands=SUB_COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
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
        from clientpay_tui.cli.run import run_app

        run_app(ctx.obj.config_file)


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
