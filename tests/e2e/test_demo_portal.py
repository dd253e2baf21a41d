"""``clientpay-tui demo`` serves the payer portal on 127.0.0.1 at a free port beside the app,
names it on the Mail screen, and the welcome emails it catches link there."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.e2e.terminal import Terminal, environment, installed_command

PORTAL = re.compile(r"Payer portal: (http://127\.0\.0\.1:\d+)")


def test_demo_serves_the_portal_and_shows_where(tmp_path: Path) -> None:
    term = Terminal([installed_command(), "demo", "--fresh"], environment(tmp_path), tmp_path)
    try:
        term.wait_for("payers", seconds=60)
        term.press("m")
        term.wait_for("Outbox")
        term.press("c")
        screen = term.wait_for("Payer portal:")
        found = PORTAL.search(screen)
        assert found, screen
        url = found.group(1)
        with httpx.Client(base_url=url, timeout=10) as web:
            sign_in = web.get("/login")
            assert sign_in.status_code == 200 and "Harbor &amp; Finch LLP" in sign_in.text
            assert web.get("/").headers["location"] == "/login"
        term.press("escape")
        term.wait_for("payers")
        term.press("ctrl+q")
        assert term.wait_exit() == 0
    finally:
        if term.child.isalive():
            term.child.terminate(force=True)
    log = tmp_path / "data" / "clientpay-tui" / "demo-portal.log"
    assert '"GET /login HTTP/1.1" 200' in log.read_text(encoding="utf-8")
