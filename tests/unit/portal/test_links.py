"""Welcome and reset links: single use, expiry, revocation, purpose, tampering, auditing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import (
    AccessToken,
    AuditEvent,
    EmailKind,
    LoginStatus,
    OutboxEmail,
    PortalLogin,
    TokenPurpose,
)
from clientpay_tui.errors import InvalidLink, ValidationFailed
from clientpay_tui.services import tokens
from clientpay_tui.services.payers import AccessStatus, PayerForm

from .conftest import GOOD_PASSWORD, OTHER_PASSWORD, audit_actions, latest_link


def _refusal(services, payer_id=None):
    """The newest link-refused audit summary, about ``payer_id`` (or about no payer)."""
    with services.db.read() as session:
        query = select(AuditEvent).where(AuditEvent.action == "portal.link_refused")
        query = query.where(
            AuditEvent.payer_id == payer_id if payer_id else AuditEvent.payer_id.is_(None)
        )
        event = session.scalars(query.order_by(AuditEvent.id.desc())).first()
        return event and (event.actor, event.summary)


def _login(services, email="ada@example.com"):
    with services.db.read() as session:
        login = session.scalars(select(PortalLogin).where(PortalLogin.email_key == email)).one()
        session.expunge(login)
        return login


def test_accepting_an_invitation_sets_the_password_and_activates_the_login(
    services, portal, invite, clock
):
    invited = invite()
    identity = portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)

    assert identity.email == "ada@example.com"
    assert identity.payer_ids == (invited.payer_id,)
    login = _login(services)
    assert login.status == LoginStatus.ACTIVE
    assert login.accepted_at == clock.now and login.password_changed_at == clock.now
    assert login.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in login.password_hash
    with services.db.read() as session:
        token = session.scalars(select(AccessToken)).one()
        session.expunge(token)
    assert token.used_at == clock.now
    assert token.token_hash == tokens.hash_token(invited.token) != invited.token
    assert "portal.accept" in audit_actions(services, invited.payer_id)
    assert portal.accounts.authenticate("ADA@example.com", GOOD_PASSWORD).login_id == login.id


def test_a_link_works_once(services, portal, invite):
    invited = invite()
    portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)
    with pytest.raises(InvalidLink) as refused:
        portal.links.accept_invitation(invited.token, OTHER_PASSWORD, OTHER_PASSWORD)
    assert refused.value.reason == tokens.TokenProblem.USED.value
    assert _refusal(services, invited.payer_id) == (
        "portal",
        "Refused a welcome link: already used",
    )
    # The second attempt changed nothing.
    portal.accounts.authenticate(invited.email, GOOD_PASSWORD)


@pytest.mark.parametrize(
    ("purpose", "lifetime"),
    [(TokenPurpose.WELCOME, timedelta(days=7)), (TokenPurpose.RESET, timedelta(hours=1))],
)
def test_a_link_expires_exactly_at_its_lifetime(
    services, portal, active, invite, clock, purpose, lifetime
):
    if purpose == TokenPurpose.WELCOME:
        payer = invite()
        token, use = payer.token, portal.links.accept_invitation
    else:
        payer = active()
        portal.accounts.request_reset(payer.email)
        token, use = latest_link(services)[1], portal.links.complete_reset
    issued = clock.now

    clock.advance(seconds=lifetime.total_seconds() - 1)
    assert portal.links.open_link(token, purpose).expires_at == issued + lifetime

    clock.advance(seconds=1)  # now == expires_at: no longer valid
    with pytest.raises(InvalidLink) as refused:
        use(token, OTHER_PASSWORD, OTHER_PASSWORD)
    assert refused.value.reason == "expired"
    assert _refusal(services, payer.payer_id)[1] == f"Refused a {purpose.value} link: expired"


def test_a_newer_link_revokes_the_older_one(services, portal, invite, admin, clock):
    invited = invite()
    clock.advance(minutes=2)
    queued = services.access.send_reset(admin, invited.payer_id)  # re-sends the welcome
    assert queued.kind == EmailKind.WELCOME
    newer = latest_link(services)[1]

    with pytest.raises(InvalidLink) as refused:
        portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)
    assert refused.value.reason == tokens.TokenProblem.REVOKED.value
    portal.links.accept_invitation(newer, GOOD_PASSWORD, GOOD_PASSWORD)


def test_a_link_for_the_other_form_is_refused_and_stays_usable(services, portal, invite):
    invited = invite()
    with pytest.raises(InvalidLink) as refused:
        portal.links.complete_reset(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)
    assert refused.value.reason == tokens.TokenProblem.WRONG_PURPOSE.value
    assert _login(services).password_hash is None
    assert (
        _refusal(services, invited.payer_id)[1] == "Refused a reset link: meant for the other form"
    )
    portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)


def _altered(token: str) -> list[str]:
    flipped = ("A" if token[0] != "A" else "B") + token[1:]
    return [
        flipped,  # one character changed: unknown
        token[:-1],  # truncated: not a token
        token + "x",
        token.upper() if token.upper() != token else token.lower(),
        f" {token}",
        "",
        "\x00" * 43,
        "\ud800" * 43,  # lone surrogates cannot even be encoded
        "é" * 43,
        "%" * 43,
        "' OR 1=1 --" + "a" * 32,
        "a" * 100_000,
    ]


def test_tampered_and_malformed_links_are_refused_and_audited_about_no_payer(
    services, portal, invite
):
    invited = invite()
    for bad in _altered(invited.token):
        for attempt in (
            lambda t: portal.links.open_link(t, TokenPurpose.WELCOME),
            lambda t: portal.links.accept_invitation(t, GOOD_PASSWORD, GOOD_PASSWORD),
            lambda t: portal.links.complete_reset(t, GOOD_PASSWORD, GOOD_PASSWORD),
        ):
            with pytest.raises(InvalidLink) as refused:
                attempt(bad)
            assert str(refused.value) == InvalidLink.MESSAGE
            assert refused.value.reason in ("unknown or altered", "not a token")
    assert len(audit_actions(services, None)) == 3 * len(_altered(invited.token))
    assert _refusal(services, None)[1].startswith("Refused a reset link")
    # Nothing of that touched the real invitation.
    assert "portal.link_refused" not in audit_actions(services, invited.payer_id)
    portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)


def test_every_refusal_looks_the_same_to_the_link_holder(services, portal, invite, clock, admin):
    used, revoked, expired, wrong = (invite(f"P{i}", f"p{i}@example.com") for i in range(4))
    portal.links.accept_invitation(used.token, GOOD_PASSWORD, GOOD_PASSWORD)
    services.access.send_reset(admin, revoked.payer_id, confirmed_resend=True)
    messages = set()
    reasons = set()
    for token, purpose in (
        (used.token, TokenPurpose.WELCOME),
        (revoked.token, TokenPurpose.WELCOME),
        (wrong.token, TokenPurpose.RESET),
        ("A" * 43, TokenPurpose.WELCOME),
        ("not a token", TokenPurpose.WELCOME),
    ):
        with pytest.raises(InvalidLink) as refused:
            portal.links.open_link(token, purpose)
        messages.add((type(refused.value), str(refused.value)))
        reasons.add(refused.value.reason)
    clock.advance(days=8)
    with pytest.raises(InvalidLink) as refused:
        portal.links.open_link(expired.token, TokenPurpose.WELCOME)
    messages.add((type(refused.value), str(refused.value)))
    reasons.add(refused.value.reason)
    assert messages == {(InvalidLink, InvalidLink.MESSAGE)}
    assert len(reasons) == 6  # the audit log still tells them apart


def test_password_problems_leave_the_link_usable(services, portal, invite):
    invited = invite()
    for password, again in (
        (GOOD_PASSWORD, OTHER_PASSWORD),  # typed differently twice
        ("short", "short"),
        ("password123", "password123"),  # on the common list
        ("ADA@EXAMPLE.COM", "ADA@EXAMPLE.COM"),  # the address itself
        ("ada", "ada"),
        ("x" * 129, "x" * 129),
        ("\ud800" * 10, "\ud800" * 10),
    ):
        with pytest.raises(ValidationFailed):
            portal.links.accept_invitation(invited.token, password, again)
    assert _login(services).status == LoginStatus.INVITED
    assert "portal.link_refused" not in audit_actions(services, invited.payer_id)
    portal.links.accept_invitation(invited.token, "x" * 64, "x" * 64)  # 64 characters is fine
    portal.accounts.authenticate(invited.email, "x" * 64)


def test_completing_a_reset_changes_the_password_revokes_other_links_and_emails_the_payer(
    services, portal, active, clock
):
    payer = active()
    with services.db.write() as session:  # an outstanding link of the other purpose
        login = session.scalars(select(PortalLogin)).one()
        stray, _ = tokens.issue(session, login, TokenPurpose.WELCOME, clock.now, timedelta(days=7))
    clock.advance(minutes=1)
    portal.accounts.request_reset(payer.email)
    purpose, token = latest_link(services)
    assert purpose == "reset"
    clock.advance(minutes=10)

    portal.links.complete_reset(token, OTHER_PASSWORD, OTHER_PASSWORD)

    portal.accounts.authenticate(payer.email, OTHER_PASSWORD)
    with pytest.raises(Exception, match="Wrong email address or password"):
        portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
    with pytest.raises(InvalidLink) as refused:
        portal.links.accept_invitation(stray, GOOD_PASSWORD, GOOD_PASSWORD)
    assert refused.value.reason == tokens.TokenProblem.REVOKED.value
    with services.db.read() as session:
        email = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
        login = session.scalars(select(PortalLogin)).one()
        session.expunge_all()
    assert email.kind == EmailKind.PASSWORD_CHANGED
    assert (email.to_address, email.payer_id, email.requested_by) == (
        "ada@example.com",
        payer.payer_id,
        "portal",
    )
    assert "password of your Test & Partners payment portal login was just changed" in (
        email.body_text
    )
    assert "token=" not in email.body_text
    assert login.password_changed_at == clock.now
    assert "portal.password_reset" in audit_actions(services, payer.payer_id)


def test_one_link_used_twice_at_once_sets_one_password(services, portal, invite, db):
    invited = invite()
    results: list[str] = []

    def use(password: str) -> None:
        try:
            portal.links.accept_invitation(invited.token, password, password)
            results.append(password)
        except InvalidLink:
            results.append("refused")

    threads = [threading.Thread(target=use, args=(p,)) for p in (GOOD_PASSWORD, OTHER_PASSWORD)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count("refused") == 1
    winner = next(r for r in results if r != "refused")
    portal.accounts.authenticate(invited.email, winner)


def test_a_shared_login_records_link_events_on_every_payer_record(services, portal, invite, admin):
    first = invite("Ada Lovelace", "ada@example.com")
    second = services.payers.create(admin, PayerForm(name="Lovelace Ltd", email="Ada@Example.com"))
    services.access.grant(admin, second.id)  # attaches to the same login
    identity = portal.links.accept_invitation(first.token, GOOD_PASSWORD, GOOD_PASSWORD)

    assert identity.payer_ids == (first.payer_id, second.id)
    for payer_id in identity.payer_ids:
        entries = services.audit.for_payer(admin, payer_id)
        assert entries[0].actor == "portal" and entries[0].action == "portal.accept"
        assert services.payers.get(admin, payer_id).status == AccessStatus.ACTIVE


def test_deleting_the_login_kills_its_links(services, portal, invite, admin):
    invited = invite()
    services.access.delete_login(admin, invited.payer_id)
    with pytest.raises(InvalidLink) as refused:
        portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)
    assert refused.value.reason == tokens.TokenProblem.UNKNOWN.value
