"""Serving the portal with uvicorn: ``clientpay-tui portal`` and the demo.

uvicorn's access log writes each request's path *with its query string*, and a welcome or
reset link carries its token there: :class:`HideQueryStrings` removes every query string from
that log before any handler sees it. uvicorn's own ``X-Forwarded-*`` handling (which believes
127.0.0.1 by default) is off: the app believes only ``trusted_proxies``
(:class:`~clientpay_tui.portal.web.security.ForwardedHeaders`).
"""

from __future__ import annotations

import logging

import uvicorn

from clientpay_tui.portal.web.app import create_app
from clientpay_tui.services.facade import Services

ACCESS_LOGGER = "uvicorn.access"
HIDDEN = "?[query hidden]"


class HideQueryStrings(logging.Filter):
    """Cut the query string out of uvicorn access-log records (``path?token=…`` → ``path``
    followed by :data:`HIDDEN`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_cut(arg) for arg in args)
        record.msg = _cut(record.msg) if isinstance(record.msg, str) else record.msg
        return True


def _cut(value: object) -> object:
    if isinstance(value, str) and "?" in value:
        return value.split("?", 1)[0] + HIDDEN
    return value


def install_log_filter() -> None:
    """Add :class:`HideQueryStrings` to uvicorn's access logger (once)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, HideQueryStrings) for f in logger.filters):
        logger.addFilter(HideQueryStrings())


def make_server(
    services: Services, *, host: str, port: int, floor_seconds: float | None = None
) -> uvicorn.Server:
    """A uvicorn server for the portal on ``services`` (``port=0``: any free port)."""
    app = (
        create_app(services)
        if floor_seconds is None
        else create_app(services, floor_seconds=floor_seconds)
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        proxy_headers=False,
        server_header=False,
        access_log=True,
        log_level="info",
        lifespan="off",
    )
    install_log_filter()  # after Config, which (re)configures uvicorn's loggers
    return uvicorn.Server(config)
