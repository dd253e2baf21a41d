"""The portal served inside another program's event loop: ``clientpay-tui demo`` runs it next to
the Textual app, so that the link in a caught email opens in a browser on the same machine.

The listening socket is bound first (127.0.0.1, a free port) so that ``PORTAL_URL`` can name it
before the services that write the emails are built; uvicorn then serves on that socket as a
task of the running loop. Requests never block that loop (every database and argon2 call of a
route runs in the thread pool), and uvicorn's logs go to a file: the terminal belongs to the app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import uvicorn

from clientpay_tui.portal.web.app import create_app
from clientpay_tui.portal.web.server import install_log_filter
from clientpay_tui.services.facade import Services

LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host: Ctrl+C and SIGTERM belong to the app
    (uvicorn would otherwise take them to stop only itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class EmbeddedPortal:
    """``async with EmbeddedPortal(log_file) as portal: ... portal.start(services)``.

    Attributes:
        url: ``http://127.0.0.1:PORT``, known as soon as the context is entered.
    """

    def __init__(self, log_file: Path, host: str = "127.0.0.1") -> None:
        self.log_file = log_file
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.sock.setblocking(False)
        port = self.sock.getsockname()[1]
        self.url = f"http://{host}:{port}"
        self.server: uvicorn.Server | None = None
        self.task: asyncio.Task[None] | None = None
        self._handler: logging.Handler | None = None

    async def __aenter__(self) -> EmbeddedPortal:
        return self

    def start(self, services: Services) -> None:
        """Serve the portal on ``services`` from now on (a task of the running loop)."""
        config = uvicorn.Config(
            create_app(services),
            proxy_headers=False,
            server_header=False,
            access_log=True,
            log_config=None,
            lifespan="off",
        )
        self._log_to_file()
        self.server = _QuietServer(config)
        self.task = asyncio.get_running_loop().create_task(self.server.serve([self.sock]))

    async def started(self) -> None:
        """Wait until the server accepts connections (or raise what stopped it)."""
        assert self.server is not None and self.task is not None
        while not self.server.started:
            if self.task.done():
                self.task.result()
                raise RuntimeError("the portal stopped before it started")
            await asyncio.sleep(0.01)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.server is not None and self.task is not None:
            self.server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, timeout=5)
        self.sock.close()
        if self._handler is not None:
            for name in LOGGERS:
                logging.getLogger(name).removeHandler(self._handler)
            self._handler.close()

    def _log_to_file(self) -> None:
        """uvicorn's log lines (query strings hidden) to ``log_file``, not the terminal."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        for name in LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers = [handler]
            logger.propagate = False
            logger.setLevel(logging.INFO)
        install_log_filter()
        self._handler = handler
