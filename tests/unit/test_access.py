"""Login access: grant, shared logins, delete, reset / re-send, limits, the email-change move."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

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
from clientpay_tui.errors import (
    AccessStateError,
    EmailChangeNeedsLoginMove,
    NoLogin,
    RateLimited,
    RecentlySent,
    ValidationFailed,
)
from clientpay_tui.mail import outbox
from clientpay_tui.services import tokens
from clientpay_tui.services.payers import AccessStatus, PayerForm


def _payer(services, admin, name="Ada Lovelace", email="ada@example.com"):
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _count(db, model, *where) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _emails(db, payer_id=None):
    with db.read() as session:
        query = select(OutboxEmail).order_by(OutboxEmail.id)
        if payer_id is not None:
            query = query.where(OutboxEmail.payer_id == payer_id)
        rows = list(session.scalars(query))
        session.expunge_all()  # keep the loaded values after the read's rollback
        return rows


def _actions(db, payer_id):
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.payer_id == payer_id)
                .order_by(AuditEvent.id)
            )
        )


def _token_from(email: OutboxEmail) -> str:
    found = re.search(r"\?token=([A-Za-z0-9_\-]+)", email.body_text or "")
    assert found, email.body_text
    return found.group(1)


def _activate(db, payer_id):
    with db.write() as session:
        login_id = session.get(Payer, payer_id).login_id
        session.execute(
            update(PortalLogin).where(PortalLogin.id == login_id).values(status=LoginStatus.ACTIVE)
        )


# -- grant --------------------------------------------------------------------------------------


def test_grant_creates_login_token_and_queued_welcome_together(services, admin, db, clock):
    payer_id = _payer(services, admin)

    queued = services.access.grant(admin, payer_id)

    assert (queued.kind, queued.to_address) == (EmailKind.WELCOME, "ada@example.com")
    [email] = _emails(db)
    assert (email.id, email.status, email.to_address) == (
        queued.email_id,
        EmailStatus.QUEUED,
        "ada@example.com",
    )
    assert email.requested_by == admin.username and email.next_attempt_at == clock.now
    link_token = _token_from(email)
    assert "https://portal.test/welcome?token=" in email.body_text
    assert "Test &amp; Partners" in email.body_html
    with db.read() as session:
        payer = session.get(Payer, payer_id)
        login = session.get(PortalLogin, payer.login_id)
        assert (login.email_key, login.status, login.password_hash) == (
            "ada@example.com",
            LoginStatus.INVITED,
            None,
        )
        [token] = session.scalars(select(AccessToken))
        assert token.login_id == login.id and token.purpose == TokenPurpose.WELCOME
        assert token.token_hash == tokens.hash_token(link_token)  # only the hash is stored
        assert link_token not in token.token_hash
        assert token.expires_at == clock.now + timedelta(days=7)
        assert payer.version == 1  # access is not an edit of the payer's fields
    assert _actions(db, payer_id) == ["payer.create", "access.grant"]
    detail = services.payers.get(admin, payer_id)
    assert detail.status == AccessStatus.INVITED
    assert detail.login.welcome_expires_at == clock.now + timedelta(days=7)


def test_grant_failing_midway_leaves_nothing(services, admin, db, monkeypatch):
    payer_id = _payer(services, admin)
    real_enqueue = outbox.enqueue

    def enqueue_then_fail(*args, **kwargs):
        real_enqueue(*args, **kwargs)  # login, token and email row are all flushed by now
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(outbox, "enqueue", enqueue_then_fail)
    with pytest.raises(RuntimeError):
        services.access.grant(admin, payer_id)

    assert _count(db, PortalLogin) == 0
    assert _count(db, AccessToken) == 0
    assert _count(db, OutboxEmail) == 0
    assert _count(db, Payer, Payer.login_id.is_not(None)) == 0
    assert _actions(db, payer_id) == ["payer.create"]


def test_grant_needs_an_email_and_no_login_yet(services, admin, db):
    nobody = _payer(services, admin, "No Mail", None)
    with pytest.raises(AccessStateError, match="no email address"):
        services.access.grant(admin, nobody)
    ada = _payer(services, admin)
    services.access.grant(admin, ada)
    with pytest.raises(AccessStateError, match="already has login access"):
        services.access.grant(admin, ada, confirmed_resend=True)
    assert _count(db, PortalLogin) == 1 and _count(db, OutboxEmail) == 1


def test_second_payer_with_the_same_email_attaches_to_the_login(services, admin, db):
    first = _payer(services, admin, "Ada Lovelace", "ada@example.com")
    second = _payer(services, admin, "Lovelace Trust", "ADA@example.com")
    services.access.grant(admin, first)

    queued = services.access.grant(admin, second)

    assert queued.kind == EmailKind.ACCESS_ADDED
    assert _count(db, PortalLogin) == 1
    assert _count(db, AccessToken) == 1  # no new password, no new link
    with db.read() as session:
        logins = {session.get(Payer, p).login_id for p in (first, second)}
    assert len(logins) == 1
    notice = _emails(db, second)[-1]
    assert notice.to_address == "ADA@example.com"
    assert "?token=" not in notice.body_text and "Lovelace Trust" in notice.body_text
    assert _actions(db, second)[-1] == "access.attach"
    assert services.payers.get(admin, first).login.other_payers == 1


# -- delete -------------------------------------------------------------------------------------


def test_delete_login_detaches_and_removes_the_login_only_when_unused(services, admin, db):
    first = _payer(services, admin, "Ada Lovelace", "ada@example.com")
    second = _payer(services, admin, "Lovelace Trust", "ada@example.com")
    services.access.grant(admin, first)
    services.access.grant(admin, second)

    kept = services.access.delete_login(admin, first)

    assert (kept.login_removed, kept.still_covers) == (False, 1)
    assert _count(db, PortalLogin) == 1
    assert services.payers.get(admin, first).status == AccessStatus.NONE
    assert services.payers.get(admin, second).status == AccessStatus.INVITED

    removed = services.access.delete_login(admin, second)

    assert (removed.login_removed, removed.email) == (True, "ada@example.com")
    assert _count(db, PortalLogin) == 0
    assert _count(db, AccessToken) == 0
    assert _actions(db, second)[-1] == "access.delete"
    with pytest.raises(AccessStateError, match="no login to delete"):
        services.access.delete_login(admin, second)


def test_delete_login_cancels_unsent_emails_only(services, admin, db):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    [welcome] = _emails(db)
    with db.write() as session:  # the sender delivered the welcome email
        session.execute(
            update(OutboxEmail).where(OutboxEmail.id == welcome.id).values(status=EmailStatus.SENT)
        )
    services.access.send_reset(admin, payer_id, confirmed_resend=True)

    services.access.delete_login(admin, payer_id)

    sent, resent = _emails(db)
    assert sent.status == EmailStatus.SENT and sent.body_text is not None
    assert resent.status == EmailStatus.FAILED
    assert resent.last_error == "Cancelled: the login was deleted."
    assert resent.body_text is None and resent.body_html is None  # the dead link is gone


# -- reset and re-send -------------------------------------------------------------------------


def test_reset_while_invited_resends_the_welcome(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    clock.advance(seconds=61)

    queued = services.access.send_reset(admin, payer_id)

    assert queued.kind == EmailKind.WELCOME
    first, second = _emails(db)
    with db.read() as session:
        rows = {t.token_hash: t for t in session.scalars(select(AccessToken))}
        session.expunge_all()
    old, new = (
        rows[tokens.hash_token(_token_from(first))],
        rows[tokens.hash_token(_token_from(second))],
    )
    assert old.revoked_at == clock.now and new.revoked_at is None  # only the newest link works
    assert new.purpose == TokenPurpose.WELCOME
    assert _actions(db, payer_id)[-1] == "access.resend"


def test_reset_for_an_active_login_sends_a_reset_link(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    _activate(db, payer_id)
    clock.advance(minutes=5)

    queued = services.access.send_reset(admin, payer_id)

    assert queued.kind == EmailKind.RESET
    email = _emails(db)[-1]
    assert "https://portal.test/reset?token=" in email.body_text
    with db.read() as session:
        token = session.scalars(
            select(AccessToken).where(
                AccessToken.token_hash == tokens.hash_token(_token_from(email))
            )
        ).one()
        welcome = session.scalars(
            select(AccessToken).where(AccessToken.purpose == TokenPurpose.WELCOME)
        ).one()
        session.expunge_all()
    assert token.purpose == TokenPurpose.RESET
    assert token.expires_at == clock.now + timedelta(hours=1)
    assert welcome.revoked_at is None  # a reset does not revoke other purposes
    assert _actions(db, payer_id)[-1] == "access.reset"
    assert services.payers.get(admin, payer_id).status == AccessStatus.ACTIVE


def test_reset_without_a_login_is_refused(services, admin, db):
    payer_id = _payer(services, admin)
    with pytest.raises(NoLogin) as refused:
        services.access.send_reset(admin, payer_id)
    # What happened, and whose: the screen (or the CLI) says how to invite them.
    assert refused.value.payer_name == "Ada Lovelace"
    assert str(refused.value) == "Ada Lovelace has no login."
    assert _count(db, OutboxEmail) == 0


# -- the re-send confirmation and the rate limit ----------------------------------------------


def test_a_second_email_within_60_seconds_needs_confirmation(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    clock.advance(seconds=42)

    with pytest.raises(RecentlySent) as asked:
        services.access.send_reset(admin, payer_id)

    assert asked.value.seconds_ago == 42
    assert "42 s ago" in str(asked.value) and "09:30:00 UTC" in str(asked.value)
    assert _count(db, OutboxEmail) == 1
    budget = services.access.budget(admin, payer_id)
    assert budget.needs_confirm and budget.sent_in_window == 1

    services.access.send_reset(admin, payer_id, confirmed_resend=True)
    assert _count(db, OutboxEmail) == 2

    clock.advance(seconds=60)
    services.access.send_reset(admin, payer_id)  # a minute later, no question asked
    assert _count(db, OutboxEmail) == 3


def test_an_attach_notice_also_counts_for_the_confirmation(services, admin, clock):
    first = _payer(services, admin, "Ada", "ada@example.com")
    second = _payer(services, admin, "Ada Trust", "ada@example.com")
    services.access.grant(admin, first)
    services.access.grant(admin, second)
    clock.advance(seconds=10)
    with pytest.raises(RecentlySent):
        services.access.send_reset(admin, second)


def test_at_most_five_welcome_or_reset_emails_in_30_minutes(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)  # 09:30
    for _ in range(4):
        clock.advance(minutes=2)
        services.access.send_reset(admin, payer_id)  # 09:32 … 09:38
    clock.advance(minutes=2)

    with pytest.raises(RateLimited) as limited:
        services.access.send_reset(admin, payer_id, confirmed_resend=True)

    assert "5 welcome or reset emails" in str(limited.value)
    assert "10:00 UTC" in str(limited.value)  # when the oldest leaves the window
    assert _count(db, OutboxEmail) == 5
    assert services.access.budget(admin, payer_id).next_allowed_at is not None

    clock.advance(minutes=20, seconds=1)  # 10:00:01: the 09:30 email is out of the window
    services.access.send_reset(admin, payer_id)
    assert _count(db, OutboxEmail) == 6


def test_the_limit_is_per_payer(services, admin, clock, db):
    ada = _payer(services, admin, "Ada", "ada@example.com")
    bob = _payer(services, admin, "Bob", "bob@example.com")
    services.access.grant(admin, ada)
    for _ in range(4):
        services.access.send_reset(admin, ada, confirmed_resend=True)
    with pytest.raises(RateLimited):
        services.access.send_reset(admin, ada, confirmed_resend=True)  # Ada's sixth

    services.access.grant(admin, bob)  # Ada's five do not count for Bob

    assert [e.kind for e in _emails(db, bob)] == [EmailKind.WELCOME]
    assert len(_emails(db, ada)) == 5


# -- email change -----------------------------------------------------------------------------


def test_changing_the_email_of_a_payer_with_a_login_asks_to_move_it(services, admin, db):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)

    with pytest.raises(EmailChangeNeedsLoginMove) as asked:
        services.payers.update(
            admin, payer_id, 1, PayerForm(name="Ada Lovelace", email="ada@new.example.com")
        )

    assert (asked.value.old, asked.value.new) == ("ada@example.com", "ada@new.example.com")
    detail = services.payers.get(admin, payer_id)
    assert (detail.email, detail.version) == ("ada@example.com", 1)
    assert _count(db, OutboxEmail) == 1


def test_moving_the_login_revokes_the_old_and_invites_the_new(services, admin, db, clock):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    clock.advance(minutes=10)

    detail = services.payers.update(
        admin,
        payer_id,
        1,
        PayerForm(name="Ada Lovelace", email="ada@new.example.com"),
        move_login=True,
    )

    assert (detail.email, detail.version, detail.status) == (
        "ada@new.example.com",
        2,
        AccessStatus.INVITED,
    )
    with db.read() as session:
        # (SQLite may reuse the deleted login's id, so look it up by address.)
        logins = list(session.scalars(select(PortalLogin.email_key)))
        assert logins == ["ada@new.example.com"]
        login = session.get(PortalLogin, session.get(Payer, payer_id).login_id)
        assert login.email_key == "ada@new.example.com"
        assert session.scalar(select(func.count()).select_from(AccessToken)) == 1
    old_welcome, notice, new_welcome = _emails(db)
    assert old_welcome.status == EmailStatus.FAILED  # it was still queued: cancelled
    assert (notice.kind, notice.to_address) == (EmailKind.LOGIN_MOVED, "ada@example.com")
    assert (new_welcome.kind, new_welcome.to_address) == (EmailKind.WELCOME, "ada@new.example.com")
    assert _actions(db, payer_id)[-2:] == ["access.move", "payer.update"]


def test_moving_the_login_is_one_transaction(services, admin, db, monkeypatch):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)

    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(outbox, "enqueue", fail)
    with pytest.raises(RuntimeError):
        services.payers.update(
            admin, payer_id, 1, PayerForm(name="Ada", email="ada@new.example.com"), move_login=True
        )
    detail = services.payers.get(admin, payer_id)
    assert (detail.name, detail.email, detail.status) == (
        "Ada Lovelace",
        "ada@example.com",
        AccessStatus.INVITED,
    )
    assert [e.status for e in _emails(db)] == [EmailStatus.QUEUED]
    assert _count(db, PortalLogin, PortalLogin.email_key == "ada@example.com") == 1


def test_moving_a_shared_login_keeps_it_for_the_other_record(services, admin, db):
    first = _payer(services, admin, "Ada", "ada@example.com")
    second = _payer(services, admin, "Ada Trust", "ada@example.com")
    services.access.grant(admin, first)
    services.access.grant(admin, second, confirmed_resend=True)

    services.payers.update(
        admin, first, 1, PayerForm(name="Ada", email="ada@new.example.com"), move_login=True
    )

    assert _count(db, PortalLogin) == 2
    assert services.payers.get(admin, second).login.other_payers == 0


def test_removing_the_email_of_a_payer_with_a_login_is_refused(services, admin):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    with pytest.raises(ValidationFailed, match="delete the login"):
        services.payers.update(
            admin, payer_id, 1, PayerForm(name="Ada Lovelace", email=""), move_login=True
        )


def test_a_case_only_email_change_keeps_the_login(services, admin, db):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    detail = services.payers.update(
        admin, payer_id, 1, PayerForm(name="Ada Lovelace", email="Ada@Example.com")
    )
    assert detail.email == "Ada@example.com" and detail.status == AccessStatus.INVITED
    assert _count(db, OutboxEmail) == 1


def test_access_changes_do_not_make_an_open_edit_stale(services, admin):
    payer_id = _payer(services, admin)
    opened = services.payers.get(admin, payer_id)
    services.access.grant(admin, payer_id)
    saved = services.payers.update(
        admin, payer_id, opened.version, PayerForm(name="Ada L.", email=opened.email)
    )
    assert saved.name == "Ada L."


def test_one_save_of_a_payer_with_a_login_bumps_the_version_once(services, admin):
    payer_id = _payer(services, admin)
    services.access.grant(admin, payer_id)
    saved = services.payers.update(
        admin, payer_id, 1, PayerForm(name="Ada King", email="ada@example.com")
    )
    assert saved.version == 2
