"""Portal sign-in and reset requests: lockout, unlock, rehash, and no account enumeration."""

from __future__ import annotations

import contextlib
import statistics
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from clientpay_tui.db.models import AuditEvent, EmailKind, OutboxEmail, PortalLogin, Role
from clientpay_tui.errors import (
    AccessStateError,
    AuthenticationFailed,
    PermissionDenied,
    ValidationFailed,
)
from clientpay_tui.portal import RESET_REQUESTED, Portal
from clientpay_tui.portal.common import PORTAL_ACTOR
from clientpay_tui.services import passwords
from clientpay_tui.services.access_emails import (
    SELF_SERVICE,
    SELF_SERVICE_LIMIT,
    SELF_SERVICE_MINUTES,
)
from clientpay_tui.services.payers import AccessStatus, PayerForm

from .conftest import GOOD_PASSWORD, audit_actions, latest_link


def _login(services, email="ada@example.com") -> PortalLogin:
    with services.db.read() as session:
        login = session.scalars(select(PortalLogin).where(PortalLogin.email_key == email)).one()
        session.expunge(login)
        return login


def _refused(call) -> tuple[type, str]:
    with pytest.raises(AuthenticationFailed) as refused:
        call()
    return type(refused.value), str(refused.value)


def _emails(services) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(OutboxEmail)))


def test_sign_in_returns_every_record_of_the_login(services, portal, active, admin, clock):
    payer = active()
    other = services.payers.create(admin, PayerForm(name="Ada's firm", email="ada@example.com"))
    services.access.grant(admin, other.id)
    clock.advance(minutes=5)

    identity = portal.accounts.authenticate("  Ada@Example.COM ", GOOD_PASSWORD)

    assert identity.payer_ids == (payer.payer_id, other.id)
    assert _login(services).last_sign_in_at == clock.now
    assert audit_actions(services, other.id)[-1] == "portal.sign_in"


def test_wrong_password_unknown_address_and_unaccepted_invitation_look_alike(
    services, portal, active, invite
):
    active()
    invite("Bea", "bea@example.com")  # invited, no password yet
    answers = {
        _refused(lambda: portal.accounts.authenticate("ada@example.com", "not the password")),
        _refused(lambda: portal.accounts.authenticate("nobody@example.com", GOOD_PASSWORD)),
        _refused(lambda: portal.accounts.authenticate("bea@example.com", GOOD_PASSWORD)),
        _refused(lambda: portal.accounts.authenticate("not an address", GOOD_PASSWORD)),
        _refused(lambda: portal.accounts.authenticate("", "")),
    }
    assert len(answers) == 1
    assert "Wrong email address or password" in answers.pop()[1]
    assert audit_actions(services, None).count("portal.sign_in_failed") == 3


def test_five_failures_in_fifteen_minutes_lock_for_fifteen_minutes(
    services, portal, active, admin, clock
):
    payer = active()
    for _ in range(4):
        _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
        clock.advance(minutes=3)
    assert _login(services).locked_until is None
    _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))  # 5th, at 12 min

    locked = _login(services)
    assert locked.locked_until == clock.now + timedelta(minutes=15)
    assert services.payers.get(admin, payer.payer_id).status == AccessStatus.LOCKED
    assert "portal.locked" in audit_actions(services, payer.payer_id)
    wrong_answer = _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
    # The right password is refused with the same answer while the lock holds …
    clock.advance(minutes=15, seconds=-1)
    assert _refused(lambda: portal.accounts.authenticate(payer.email, GOOD_PASSWORD)) == (
        wrong_answer
    )
    assert _login(services).locked_until == locked.locked_until  # not extended
    # … and accepted the moment it ends.
    clock.advance(seconds=1)
    portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
    assert services.payers.get(admin, payer.payer_id).status == AccessStatus.ACTIVE


def test_failures_spread_over_more_than_the_window_do_not_lock(services, portal, active, clock):
    payer = active()
    for _ in range(4):
        _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
    clock.advance(minutes=15, seconds=1)
    for _ in range(4):
        _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
    assert _login(services).locked_until is None
    portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
    assert _login(services).failed_attempts == 0


def test_a_lock_does_not_reveal_whether_the_address_has_a_login(services, portal, active):
    payer = active()
    known, unknown = [], []
    for _ in range(7):
        known.append(_refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong")))
        unknown.append(
            _refused(lambda: portal.accounts.authenticate("ghost@example.com", "wrong wrong"))
        )
    assert _login(services).locked_until is not None
    assert known == unknown
    assert len(set(known)) == 1


def test_staff_unlock_a_payer_login(services, portal, active, make_actor):
    payer = active()
    for _ in range(5):
        _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
    agent = make_actor(Role.AGENT)

    assert services.access.unlock_login(agent, payer.payer_id) == "ada@example.com"

    assert _login(services).locked_until is None
    assert services.audit.for_payer(agent, payer.payer_id)[0].action == "access.unlock"
    assert services.audit.for_payer(agent, payer.payer_id)[0].actor == agent.username
    portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
    with pytest.raises(AccessStateError, match="not locked"):
        services.access.unlock_login(agent, payer.payer_id)


def test_unlocking_needs_a_usable_account_and_a_login(services, active, make_actor, admin):
    payer = active()
    agent = make_actor(Role.AGENT)
    services.staff.set_disabled(admin, agent.username, True)
    with pytest.raises(PermissionDenied):
        services.access.unlock_login(agent, payer.payer_id)
    bare = services.payers.create(admin, PayerForm(name="No Login", email="none@example.com"))
    with pytest.raises(AccessStateError, match="no login"):
        services.access.unlock_login(admin, bare.id)


def test_a_completed_reset_lifts_the_lock(services, portal, active):
    payer = active()
    for _ in range(5):
        _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
    assert portal.accounts.request_reset(payer.email) == RESET_REQUESTED
    portal.links.complete_reset(
        latest_link(services)[1], "fresh meadow quartz", "fresh meadow quartz"
    )
    portal.accounts.authenticate(payer.email, "fresh meadow quartz")


def test_sign_in_rehashes_when_the_parameters_change(services, portal, active):
    payer = active()  # hashed with the cheap test hasher
    old_hash = _login(services).password_hash
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    previous = passwords.use_hasher(stronger)
    try:
        assert passwords.needs_rehash(old_hash)
        _refused(lambda: portal.accounts.authenticate(payer.email, "wrong wrong"))
        assert _login(services).password_hash == old_hash  # a failure never rehashes
        portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
        new_hash = _login(services).password_hash
        assert new_hash != old_hash and "m=16,t=2,p=1" in new_hash
        assert not stronger.check_needs_rehash(new_hash)
        portal.accounts.authenticate(payer.email, GOOD_PASSWORD)
        assert _login(services).password_hash == new_hash  # once is enough
    finally:
        passwords.use_hasher(previous)
    # The old parameters still verify the new hash (argon2 hashes carry their parameters).
    portal.accounts.authenticate(payer.email, GOOD_PASSWORD)


def test_staff_sign_in_rehashes_and_locks_by_the_same_rule(services, admin, clock):
    services.staff.add(admin, "carol", Role.STAFF, "correct horse battery")
    previous = passwords.use_hasher(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    try:
        services.staff.sign_in("carol", "correct horse battery")
    finally:
        passwords.use_hasher(previous)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.staff.sign_in("carol", "nope nope")
    with pytest.raises(AuthenticationFailed, match="Too many failed sign-ins"):
        services.staff.sign_in("carol", "nope nope")
    info = services.staff.unlock(admin, "carol")
    assert info.locked_until is None
    services.staff.sign_in("carol", "correct horse battery")


def test_request_reset_queues_a_reset_link_for_an_active_login(services, portal, active, clock):
    payer = active()
    clock.advance(minutes=1)
    assert portal.accounts.request_reset(" ADA@example.com") == RESET_REQUESTED
    with services.db.read() as session:
        email = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
        kind, to, requested_by = email.kind, email.to_address, email.requested_by
    assert (kind, to, requested_by) == (EmailKind.RESET, "ada@example.com", "portal")
    assert latest_link(services)[0] == "reset"
    assert audit_actions(services, payer.payer_id)[-1] == "portal.reset_requested"


def test_request_reset_for_an_unaccepted_invitation_sends_a_new_welcome_link(
    services, portal, invite, clock
):
    payer = invite()
    clock.advance(minutes=1)
    portal.accounts.request_reset(payer.email)
    purpose, token = latest_link(services)
    assert purpose == "welcome" and token != payer.token
    portal.links.accept_invitation(token, GOOD_PASSWORD, GOOD_PASSWORD)


def test_request_reset_answers_the_same_for_every_address(services, portal, active, invite):
    active()
    invite("Bea", "bea@example.com")
    before = _emails(services)
    answers = {
        portal.accounts.request_reset("ada@example.com"),
        portal.accounts.request_reset("bea@example.com"),
        portal.accounts.request_reset("nobody@example.com"),
    }
    assert answers == {RESET_REQUESTED}
    assert _emails(services) == before + 2  # nothing went to the unknown address
    with pytest.raises(ValidationFailed):
        portal.accounts.request_reset("not an address")


def _resets(services) -> int:
    with services.db.read() as session:
        return int(session.scalar(select(func.count()).where(OutboxEmail.kind == EmailKind.RESET)))


def test_request_reset_respects_its_own_email_limit_silently(services, portal, active, clock):
    payer = active()  # the staff's welcome email does not count against the portal's limit
    for _ in range(10):
        clock.advance(seconds=61)
        assert portal.accounts.request_reset(payer.email) == RESET_REQUESTED
    assert _resets(services) == SELF_SERVICE_LIMIT
    assert audit_actions(services, payer.payer_id).count("portal.reset_limited") == 7

    clock.advance(minutes=SELF_SERVICE_MINUTES - 10 + 1)  # the first request left the window
    portal.accounts.request_reset(payer.email)
    assert _resets(services) == SELF_SERVICE_LIMIT + 1


def test_strangers_asking_for_resets_never_block_the_staffs_reset(
    services, portal, active, admin, clock
):
    payer = active()
    for _ in range(20):  # someone who knows the address, all afternoon
        clock.advance(seconds=61)
        portal.accounts.request_reset(payer.email)
    clock.advance(seconds=61)

    budget = services.access.budget(admin, payer.payer_id)
    assert (budget.sent_in_window, budget.next_allowed_at) == (1, None)  # the staff's welcome
    queued = services.access.send_reset(admin, payer.payer_id)

    assert queued.kind == EmailKind.RESET
    with services.db.read() as session:
        requested_by = session.get(OutboxEmail, queued.email_id).requested_by
    assert requested_by == admin.username


def test_staff_sends_do_not_spend_the_payers_own_requests(services, portal, active, admin, clock):
    payer = active()
    for _ in range(4):  # with the welcome email, the staff's limit of 5 is reached
        clock.advance(seconds=61)
        services.access.send_reset(admin, payer.payer_id)
    clock.advance(seconds=61)
    before = _resets(services)

    portal.accounts.request_reset(payer.email)

    assert _resets(services) == before + 1
    assert audit_actions(services, payer.payer_id)[-1] == "portal.reset_requested"


def test_the_self_service_requester_is_the_portals_actor():
    assert SELF_SERVICE == PORTAL_ACTOR


def _timed(samples: list[float], call, *args) -> None:
    started = time.perf_counter()
    with contextlib.suppress(AuthenticationFailed):
        call(*args)
    samples.append((time.perf_counter() - started) * 1000)


def test_known_and_unknown_addresses_take_the_same_time(services, active, clock):
    """Measured with the default response floor, as the portal runs."""
    portal = Portal(services)
    active()
    sign_in, reset = portal.accounts.authenticate, portal.accounts.request_reset
    timings: dict[str, list[float]] = {key: [] for key in ("auth+", "auth-", "reset+", "reset-")}
    for i in range(5):
        clock.advance(minutes=20)  # keep clear of the lockout and the email limit
        _timed(timings["auth+"], sign_in, "ada@example.com", "wrong x")
        _timed(timings["auth-"], sign_in, f"n{i}@example.com", "wrong x")
        _timed(timings["reset+"], reset, "ada@example.com")
        _timed(timings["reset-"], reset, f"n{i}@example.com")
    medians = {key: statistics.median(values) for key, values in timings.items()}
    print(f"median ms: {medians}")
    for known, unknown in (("auth+", "auth-"), ("reset+", "reset-")):
        ratio = max(medians[known], medians[unknown]) / min(medians[known], medians[unknown])
        assert ratio < 1.25, medians
    assert min(medians.values()) >= portal.accounts.floor_seconds * 1000


def test_refused_staff_sign_ins_stay_in_the_audit_log(services, admin):
    services.staff.add(admin, "frank", Role.AGENT, "correct horse battery")
    services.staff.set_disabled(admin, "frank", True)
    for name in ("nobody", "frank"):
        with pytest.raises(AuthenticationFailed):
            services.staff.sign_in(name, "correct horse battery")
    summaries = [(e.actor, e.action, e.summary) for e in services.audit.recent(admin)[:2]]
    assert summaries == [
        ("frank", "staff.sign_in_failed", "Account disabled"),
        ("unknown", "staff.sign_in_failed", "Sign-in refused: an unknown user name"),
    ]


def _portal_summaries(services) -> list[str]:
    with services.db.read() as session:
        return list(session.scalars(select(AuditEvent.summary).order_by(AuditEvent.id)))


@pytest.mark.parametrize("typed", ["violet tundra anvil", "Tr0ub4dor&3", "ada@", "@example.com"])
def test_a_sign_in_identifier_that_is_not_an_address_is_not_logged(services, portal, typed):
    """It may be a password typed in the wrong box, and agents read the audit log."""
    with pytest.raises(AuthenticationFailed):
        portal.accounts.authenticate(typed, "whatever else")
    summaries = _portal_summaries(services)
    assert summaries == ["Portal sign-in refused: what was typed is not an email address"]
    assert typed not in summaries[0]


def test_an_unknown_address_is_logged_in_its_normal_form(services, portal):
    with pytest.raises(AuthenticationFailed):
        portal.accounts.authenticate("  Nobody@Example.COM ", "whatever else")
    portal.accounts.request_reset(" Someone@Example.com\t")
    assert _portal_summaries(services) == [
        "Portal sign-in refused: no login for 'nobody@example.com'",
        "Password reset asked for 'someone@example.com', which has no login",
    ]
