"""The notice of a moved login reaches the old address through a real SMTP server, linkless,
and still goes when the login is deleted before the sender gets to it."""

from __future__ import annotations

from clientpay_tui.db.models import EmailKind
from clientpay_tui.mail.sender import Outcome
from clientpay_tui.services.payers import PayerForm


async def test_the_old_address_receives_the_notice_even_after_a_delete(
    services, admin, sender, smtp_server, outbox_rows
):
    payer = services.payers.create(admin, PayerForm(name="Ada Lovelace", email="ada@example.com"))
    services.access.grant(admin, payer.id)
    services.payers.update(
        admin, payer.id, 1, PayerForm(name="Ada Lovelace", email="new@example.com"), move_login=True
    )
    services.access.delete_login(admin, payer.id)  # covering the tracks does not stop it

    results = await sender.deliver_due()

    assert [r.outcome for r in results] == [Outcome.SENT]
    [received] = smtp_server.handler.messages
    assert received.rcpt_tos == ["ada@example.com"]
    assert str(received.message["Subject"]) == (
        "Test & Partners: your payment portal login was moved"
    )
    text = received.message.get_body(("plain",)).get_content()
    html = received.message.get_body(("html",)).get_content()
    assert "call Test & Partners straight away" in " ".join(text.split())
    assert "http" not in text and "http" not in html
    [notice] = [row for row in outbox_rows() if row.kind == EmailKind.LOGIN_MOVED]
    assert notice.body_text is None  # removed once sent, like every email
