"""``clientpay-tui portal``: serve the payer portal (uvicorn) on the configured database.

Nothing is kept in process memory (sessions, rate limits and sign-in codes live in the
database), so several portal processes can serve one database behind a reverse proxy.
"""

from __future__ import annotations

import click

from clientpay_tui.cli.context import CliContext


@click.command("portal")
@click.option("--host", default=None, help="Address to listen on (default: portal_host).")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port to listen on (default: portal_port).",
)
@click.pass_obj
def portal_command(obj: CliContext, host: str | None, port: int | None) -> None:
    """Serve the payer portal until interrupted (Ctrl+C or SIGTERM)."""
    services = obj.services  # checks that the schema is current
    settings = services.settings
    from clientpay_tui.portal.web.server import make_server

    host = host or settings.portal_host
    port = settings.portal_port if port is None else port
    click.echo(
        f"portal: serving {settings.portal_url} on http://{host}:{port} "
        f"from {services.db.display_url}",
        err=True,
    )
    make_server(services, host=host, port=port).run()
