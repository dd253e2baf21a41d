"""Claims take at most their limit, oldest due first, and never a row another sender holds."""

from __future__ import annotations

from datetime import timedelta

from clientpay_tui.db.models import EmailStatus
from clientpay_tui.mail import claims


def test_a_claim_takes_at_most_its_limit_and_leaves_the_rest_claimable(
    db, clock, queue_emails, outbox_rows
):
    ids = queue_emails(120)
    now = clock.advance(seconds=1)
    stale = now - timedelta(minutes=5)

    first = claims.claim(db, sender="a", now=now, stale_before=stale, limit=50)
    second = claims.claim(db, sender="b", now=now, stale_before=stale, limit=50)

    assert [email.id for email in first] == ids[:50]
    assert [email.id for email in second] == ids[50:100]
    by_sender = {row.id: (row.status, row.claimed_by) for row in outbox_rows()}
    assert {by_sender[i] for i in ids[:50]} == {(EmailStatus.SENDING, "a")}
    assert {by_sender[i] for i in ids[50:100]} == {(EmailStatus.SENDING, "b")}
    assert {by_sender[i] for i in ids[100:]} == {(EmailStatus.QUEUED, None)}
