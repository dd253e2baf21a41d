"""An email a sender has claimed is checked again just before it goes out (issue 14, item 4):
deleting the login meanwhile stops it."""

from __future__ import annotations

import asyncio

from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail.sender import RECHECK_SECONDS, SmtpSender
from clientpay_tui.services.payers import PayerForm
from tests.unit.mail.conftest import until


async def test_deleting_a_login_stops_an_email_a_sender_has_already_claimed(
    services, admin, db, mail_settings, smtp_server, clock, outbox_rows
):
    ada = services.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
    bob = services.payers.create(admin, PayerForm(name="Bob Stone", email="bob@example.com"))
    to_ada = services.access.grant(admin, ada.id)
    to_bob = services.access.grant(admin, bob.id)
    handler = smtp_server.handler
    handler.data_gate = asyncio.Event()  # the server holds its answer to the first email …
    # … and then takes longer than the sender trusts a check: the next email is checked anew.
    handler.data_delay = 2 * RECHECK_SECONDS
    sender = SmtpSender(db, mail_settings, clock=clock)
    delivering = asyncio.create_task(sender.deliver_due())
    await until(lambda: handler.data_started == 1)
    assert {row.status for row in outbox_rows()} == {EmailStatus.SENDING}, "both claimed"

    await asyncio.to_thread(services.access.delete_login, admin, bob.id)
    handler.data_gate.set()
    results = await asyncio.wait_for(delivering, 10)

    assert [r.email_id for r in results] == [to_ada.email_id]
    assert [m.rcpt_tos for m in handler.messages] == [["ada@example.com"]]
    assert handler.data_started == 1
    rows = {row.id: row for row in outbox_rows()}
    assert rows[to_ada.email_id].status == EmailStatus.SENT
    stopped = rows[to_bob.email_id]
    assert stopped.status == EmailStatus.FAILED
    assert stopped.last_error == "Cancelled: the login was deleted."
    assert stopped.body_text is None and stopped.body_html is None, "the dead link is gone"
