"""A real uvicorn server: its access log never holds a link's token; ``clientpay-tui portal``
is a command."""

from __future__ import annotations

import logging
import threading

import httpx
import pytest

from clientpay_tui.cli import main
from clientpay_tui.portal.web.server import ACCESS_LOGGER, HIDDEN, make_server
from tests.waiting import until_sync


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def served(services):
    server = make_server(services, host="127.0.0.1", port=0, floor_seconds=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    until_sync(lambda: server.started or not thread.is_alive(), 10, "the portal to start")
    assert server.started, "the portal did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive()


def test_the_access_log_never_holds_a_token(served, invite) -> None:
    invited = invite()
    collect = Collect()
    logging.getLogger(ACCESS_LOGGER).addHandler(collect)
    try:
        with httpx.Client(base_url=served) as client:
            opened = client.get(f"/welcome?token={invited.token}")
            client.get(f"/reset?token={invited.token}")
            client.get("/login?next=%2Faccount")
    finally:
        logging.getLogger(ACCESS_LOGGER).removeHandler(collect)
    assert opened.status_code == 303 and opened.headers["location"] == "/set-password"
    assert len(collect.lines) == 3, collect.lines
    assert all(invited.token not in line for line in collect.lines)
    assert f"GET /welcome{HIDDEN}" in collect.lines[0]
    assert "next=" not in collect.lines[2]
    assert "server" not in {name.lower() for name in opened.headers}


def test_portal_command_is_listed(capsys) -> None:
    main(["portal", "--help"])
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out
