"""The demo's capture server and the throughput bench."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path

from clientpay_tui.mail.capture import CaptureServer, list_captured
from clientpay_tui.mail.delivery import Outcome
from clientpay_tui.mail.sender import SmtpSender
from clientpay_tui.services.payers import PayerForm

REPO = Path(__file__).resolve().parents[3]


async def test_capture_server_saves_what_the_real_sender_sends(
    tmp_path, db, settings, clock, services, admin
):
    folder = tmp_path / "demo" / "mail"
    async with CaptureServer(folder) as capture:
        assert capture.host == "127.0.0.1" and capture.port > 0
        reader, writer = await asyncio.open_connection(capture.host, capture.port)
        assert writer.get_extra_info("socket").family == socket.AF_INET
        assert (await reader.readline()).startswith(b"220 ")
        writer.close()
        demo_settings = settings.model_copy(update=capture.settings_overrides())
        for name in ("Ada Lovelace", "Alan [bold]Turing[/]"):
            email = name.split()[0].lower() + "@example.com"
            payer = services.payers.create(admin, PayerForm(name=name, email=email))
            services.access.grant(admin, payer.id)
        results = await SmtpSender(db, demo_settings, clock=clock).deliver_due()

    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert len(list(folder.glob("*.eml"))) == 2
    assert not list(folder.glob("*.part"))
    newest_first = list_captured(folder)
    assert [m.to for m in newest_first] == [
        '"Alan [bold]Turing[/]" <alan@example.com>',
        "Ada Lovelace <ada@example.com>",
    ]
    ada = newest_first[1]
    assert ada.subject == "Test & Partners: create your password for the payment portal"
    assert ada.sender == "Test Firm <billing@firm.test>"
    assert ada.date == clock()
    assert "Hello Ada Lovelace," in ada.text and "https://portal.test/welcome?token=" in ada.text
    assert ada.message_id.startswith("<") and ada.path.suffix == ".eml"
    assert list_captured(folder, limit=1) == newest_first[:1]
    assert list_captured(tmp_path / "nowhere") == []


def test_bench_quick_prints_one_json_object(database_url):
    done = subprocess.run(
        [sys.executable, "bench/email_throughput.py", "--quick", "--database-url", database_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    [line] = done.stdout.splitlines()
    report = json.loads(line)
    assert report["emails"] == report["sent"] == report["received_by_server"] == 50
    assert report["distinct_message_ids"] == report["sent_in_database"] == 50
    assert report["messages_per_second"] > 0
    assert report["max_loop_stall_ms"] >= 0
