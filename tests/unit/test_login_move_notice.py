"""Moving a login to another address tells the old address, in the same transaction: what
changed, when, by which firm and whom to call, with no link in it; nothing staff do next
takes the notice back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import AuditEvent, EmailKind, EmailStatus, OutboxEmail
from clientpay_tui.errors import RateLimited
from clientpay_tui.mail import outbox
from clientpay_tui.services.payers import PayerForm

NEW = "mallory@attacker.example.com"


def _payer(services, admin, name="Ada Lovelace", email="ada@example.com") -> int:
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _move(services, actor, payer_id, email=NEW, version=1, name="Ada Lovelace"):
    return services.payers.update(
        actor, payer_id, version, PayerForm(name=name, email=email), move_login=True
    )


def _emails(db) -> list[OutboxEmail]:
    with db.read() as session:
        rows = list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
        session.expunge_all()
        return rows


def _notices(db) -> list[OutboxEmail]:
    return [email for email in _emails(db) if email.kind == EmailKind.LOGIN_MOVED]


def test_moving_a_login_tells_the_old_address(services, admin, db, clock, make_actor):
    from clientpay_tui.db.models import Role

    sam = make_actor(Role.STAFF, "sam")
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    clock.advance(days=3, hours=2, minutes=15)  # Thu 5 Mar 2026 11:45 UTC

    _move(services, sam, payer_id)

    [notice] = _notices(db)
    assert (notice.to_address, notice.to_name, notice.payer_id) == (
        "ada@example.com",
        "Ada Lovelace",
        payer_id,
    )
    assert (notice.status, notice.requested_by, notice.created_at) == (
        EmailStatus.QUEUED,
        "sam",
        clock.now,
    )
    assert notice.subject == "Test & Partners: your payment portal login was moved"
    text, html = notice.body_text or "", notice.body_html or ""
    for body in (" ".join(text.split()), " ".join(html.split())):
        assert "Ada Lovelace" in body
        assert "05 Mar 2026 11:45 UTC" in body  # when
        assert "changed the email address" in body  # what
        assert "can no longer sign in" in body
        assert "call Test &" in body  # whom to call, the firm
        assert "number you already have" in body
    # No link at all: a notice that a stranger could imitate must not teach clicking one.
    for body in (text, html):
        assert "http" not in body and "token" not in body and "<a " not in body
    assert NEW not in text and NEW not in html
    with db.read() as session:
        summary = session.scalars(
            select(AuditEvent.summary).where(AuditEvent.action == "access.move")
        ).one()
    assert summary == (
        f"Moved the login from ada@example.com to {NEW}; a notice went to ada@example.com"
    )
    # The new address gets its welcome as before.
    assert [(e.kind, e.to_address) for e in _emails(db)][-1] == (EmailKind.WELCOME, NEW)


def test_the_notice_is_in_the_same_transaction(services, admin, db, monkeypatch):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    real = outbox.enqueue

    def fail_for_the_notice(session, composed, **kwargs):
        if composed.kind == EmailKind.LOGIN_MOVED:
            raise RuntimeError("outbox unavailable")
        return real(session, composed, **kwargs)

    monkeypatch.setattr(outbox, "enqueue", fail_for_the_notice)
    with pytest.raises(RuntimeError):
        _move(services, admin, payer_id)

    assert services.payers.get(admin, payer_id).email == "ada@example.com"
    assert [(e.kind, e.status) for e in _emails(db)] == [(EmailKind.WELCOME, EmailStatus.QUEUED)]


def test_deleting_or_moving_again_does_not_take_the_notice_back(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    clock.advance(minutes=1)
    _move(services, admin, payer_id)
    clock.advance(minutes=1)
    _move(services, admin, payer_id, email="ada@example.com", version=2)  # and back again
    clock.advance(minutes=1)
    services.access.delete_login(admin, payer_id)

    notices = _notices(db)
    assert [(n.to_address, n.status) for n in notices] == [
        ("ada@example.com", EmailStatus.QUEUED),
        (NEW, EmailStatus.QUEUED),
    ]
    assert all(n.body_text for n in notices)


def test_a_shared_login_notice_says_the_address_still_signs_in(services, admin, db, clock):
    first = _payer(services, admin, "Ada", "ada@example.com")
    second = _payer(services, admin, "Ada Trust", "ada@example.com")
    services.access.grant(admin, first)
    services.access.grant(admin, second, confirmed_resend=True)
    clock.advance(minutes=5)

    _move(services, admin, second, name="Ada Trust")

    [notice] = _notices(db)
    assert notice.to_address == "ada@example.com"
    text = " ".join((notice.body_text or "").split())
    assert "still sign in with this address" in text and "Ada Trust" in text
    assert "can no longer sign in" not in text


def test_the_notice_does_not_count_against_the_email_limit(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    for _ in range(3):
        clock.advance(minutes=1)
        services.access.send_reset(admin, payer_id)
    clock.advance(minutes=1)
    _move(services, admin, payer_id)  # the fifth welcome or reset; the notice is not counted

    budget = services.access.budget(admin, payer_id)
    assert budget.sent_in_window == 5
    clock.advance(minutes=1)
    with pytest.raises(RateLimited):
        services.access.send_reset(admin, payer_id)
    assert len(_notices(db)) == 1
