"""Retrying a failed email from the Mail screen: a welcome or reset goes out with a fresh link
(the old one revoked), or is refused with one line when its login is gone, moved or accepted."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from clientpay_tui.db.models import (
    AccessToken,
    AuditEvent,
    EmailKind,
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.errors import RateLimited, RetryRefusal, RetryRefused
from clientpay_tui.services import tokens
from clientpay_tui.services.payers import PayerForm

LINK = re.compile(r"https://portal\.test/(welcome|reset)\?token=([A-Za-z0-9_-]+)")


def _payer(services, admin, name="Ada Lovelace", email="ada@example.com") -> int:
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _fail(db, email_id: int, error: str = "550 5.1.1 mailbox unavailable") -> None:
    """What the sender does to an email the server refused for good (the body is kept)."""
    with db.write() as session:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id)
            .values(status=EmailStatus.FAILED, attempts=10, last_error=error)
        )


def _email(db, email_id: int) -> OutboxEmail:
    with db.read() as session:
        email = session.get(OutboxEmail, email_id)
        session.expunge_all()
        return email


def _link(email: OutboxEmail) -> tuple[str, str]:
    found = LINK.search(email.body_text or "")
    assert found, email.body_text
    assert found.group(0) in (email.body_html or "")
    return found.group(1), found.group(2)


def _check(db, raw: str, purpose: TokenPurpose, now) -> tokens.TokenProblem | None:
    with db.read() as session:
        return tokens.check(session, raw, purpose, now).problem


def _activate(db, payer_id: int) -> None:
    with db.write() as session:
        login_id = session.get(Payer, payer_id).login_id
        session.execute(
            update(PortalLogin).where(PortalLogin.id == login_id).values(status=LoginStatus.ACTIVE)
        )


def _retries(db) -> list[tuple[str, str]]:
    with db.read() as session:
        return [
            (e.actor, e.summary)
            for e in session.scalars(
                select(AuditEvent).where(AuditEvent.action == "email.retry").order_by(AuditEvent.id)
            )
        ]


def test_a_retried_welcome_carries_a_fresh_link_and_the_old_one_is_revoked(
    services, admin, db, clock, make_actor
):
    from clientpay_tui.db.models import Role

    agent = make_actor(Role.AGENT, "alex")
    payer_id = _payer(services, admin)
    queued = services.access.grant(admin, payer_id)
    _, old_token = _link(_email(db, queued.email_id))
    _fail(db, queued.email_id)
    clock.advance(days=90)  # months later, long after the 7-day link expired
    services.payers.update(admin, payer_id, 1, PayerForm(name="Ada King", email="ada@example.com"))

    row = services.outbox.retry(agent, queued.email_id)

    assert (row.status, row.attempts, row.created_at) == (EmailStatus.QUEUED, 0, clock.now)
    email = _email(db, queued.email_id)
    purpose, new_token = _link(email)
    assert purpose == "welcome" and new_token != old_token
    assert _check(db, new_token, TokenPurpose.WELCOME, clock.now) is None  # it works
    assert _check(db, old_token, TokenPurpose.WELCOME, clock.now) == tokens.TokenProblem.REVOKED
    assert "Ada King" in (email.body_text or "")  # composed again, for the payer as now
    assert email.to_name == "Ada King" and email.next_attempt_at == clock.now
    assert email.requested_by == "alex"
    [(actor, summary)] = _retries(db)
    assert actor == "alex"
    assert "ada@example.com" in summary and "new welcome link" in summary
    # The new link counts against the staff's email limit like any other send.
    assert services.access.budget(admin, payer_id).sent_in_window == 1


def test_a_retried_reset_carries_a_fresh_reset_link(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    _activate(db, payer_id)
    clock.advance(minutes=5)
    queued = services.access.send_reset(admin, payer_id)
    _, old_token = _link(_email(db, queued.email_id))
    _fail(db, queued.email_id)
    clock.advance(hours=3)

    services.outbox.retry(admin, queued.email_id)

    purpose, new_token = _link(_email(db, queued.email_id))
    assert purpose == "reset" and new_token != old_token
    assert _check(db, new_token, TokenPurpose.RESET, clock.now) is None
    assert _check(db, old_token, TokenPurpose.RESET, clock.now) == tokens.TokenProblem.REVOKED


def _refused(services, actor, email_id: int, kind: RetryRefusal) -> str:
    """The refusal carries its kind; its one-line message says what happened and names no
    key or command (the Mail screen adds what to do instead)."""
    with pytest.raises(RetryRefused) as refused:
        services.outbox.retry(actor, email_id)
    assert refused.value.kind == kind
    message = str(refused.value)
    assert "\n" not in message
    assert "switch" not in message and "from the payer" not in message
    return message


def _unchanged(db, email_id: int, before: OutboxEmail, tokens_before: int) -> None:
    after = _email(db, email_id)
    assert (after.status, after.body_text, after.attempts) == (
        EmailStatus.FAILED,
        before.body_text,
        before.attempts,
    )
    with db.read() as session:
        assert len(list(session.scalars(select(AccessToken.id)))) == tokens_before
    assert _retries(db) == []


def _tokens(db) -> int:
    with db.read() as session:
        return len(list(session.scalars(select(AccessToken.id))))


def test_a_failed_email_of_a_deleted_login_cannot_be_retried(services, admin, db, clock):
    payer_id = _payer(services, admin)
    queued = services.access.grant(admin, payer_id)
    _fail(db, queued.email_id)
    services.access.delete_login(admin, payer_id)
    before, count = _email(db, queued.email_id), _tokens(db)
    clock.advance(minutes=5)

    message = _refused(services, admin, queued.email_id, RetryRefusal.LOGIN_DELETED)

    assert "login" in message and "deleted" in message
    _unchanged(db, queued.email_id, before, count)


def test_a_failed_email_of_a_moved_login_cannot_be_retried(services, admin, db, clock):
    payer_id = _payer(services, admin)
    queued = services.access.grant(admin, payer_id)
    _fail(db, queued.email_id)
    services.payers.update(
        admin,
        payer_id,
        1,
        PayerForm(name="Ada Lovelace", email="ada@new.example.com"),
        move_login=True,
    )
    before, count = _email(db, queued.email_id), _tokens(db)
    clock.advance(minutes=5)

    message = _refused(services, admin, queued.email_id, RetryRefusal.LOGIN_MOVED)

    assert "moved" in message and "ada@new.example.com" in message
    _unchanged(db, queued.email_id, before, count)


def test_a_failed_welcome_of_a_login_in_use_cannot_be_retried(services, admin, db, clock):
    payer_id = _payer(services, admin)
    queued = services.access.grant(admin, payer_id)
    _fail(db, queued.email_id)
    _activate(db, payer_id)  # the payer set a password through a later link
    before, count = _email(db, queued.email_id), _tokens(db)

    message = _refused(services, admin, queued.email_id, RetryRefusal.PASSWORD_SET)

    assert "has set a password" in message
    _unchanged(db, queued.email_id, before, count)


def test_a_failed_notice_of_a_deleted_login_cannot_be_retried(services, admin, db, clock):
    first = _payer(services, admin, "Ada", "ada@example.com")
    second = _payer(services, admin, "Ada Trust", "ada@example.com")
    services.access.grant(admin, first)
    notice = services.access.grant(admin, second)
    assert notice.kind == EmailKind.ACCESS_ADDED
    _fail(db, notice.email_id)
    services.access.delete_login(admin, second)
    before, count = _email(db, notice.email_id), _tokens(db)

    message = _refused(services, admin, notice.email_id, RetryRefusal.LOGIN_DELETED)

    assert "deleted" in message
    _unchanged(db, notice.email_id, before, count)


def test_a_retry_respects_the_email_limit(services, admin, db, clock):
    payer_id = _payer(services, admin)
    queued = services.access.grant(admin, payer_id)
    _fail(db, queued.email_id)
    for _ in range(4):
        clock.advance(minutes=1)
        services.access.send_reset(admin, payer_id, confirmed_resend=True)
    before, count = _email(db, queued.email_id), _tokens(db)

    with pytest.raises(RateLimited):
        services.outbox.retry(admin, queued.email_id)

    _unchanged(db, queued.email_id, before, count)
