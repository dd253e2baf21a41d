"""Staff accounts: add, list, disable, unlock; sign-in with lockout; disabled accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import AuditEvent, Role, Staff
from clientpay_tui.errors import (
    AccountLocked,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.services.staff import parse_role

PASSWORD = "correct horse battery"


def _audit(db):
    with db.read() as session:
        return [
            (e.actor, e.action, e.summary)
            for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_add_and_list(services, admin, db, clock):
    info = services.staff.add(admin, "  Alice ", Role.STAFF, PASSWORD)
    services.staff.add(admin, "bob.agent", Role.AGENT, PASSWORD)

    assert (info.username, info.role, info.disabled, info.created_at) == (
        "alice",
        Role.STAFF,
        False,
        clock.now,
    )
    assert [(s.username, s.role) for s in services.staff.list(admin)] == [
        ("alice", Role.STAFF),
        ("bob.agent", Role.AGENT),
    ]
    with db.read() as session:
        stored = session.scalars(select(Staff.password_hash).where(Staff.username == "alice")).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert _audit(db)[0] == (admin.username, "staff.add", "Added staff alice as staff")


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("a", PASSWORD, "invalid username"),
        ("has space", PASSWORD, "invalid username"),
        ("ålice", PASSWORD, "invalid username"),
        ("alice", "short", "at least 8"),
        ("alice", "x" * 129, "at most 128"),
        ("alice", " " * 10, "only spaces"),
    ],
)
def test_add_refuses_bad_input(services, admin, db, username, password, message):
    with pytest.raises(ValidationFailed, match=message):
        services.staff.add(admin, username, Role.STAFF, password)
    assert services.staff.list(admin) == []


def test_add_refuses_a_duplicate(services, admin):
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    with pytest.raises(ValidationFailed, match="already exists"):
        services.staff.add(admin, "ALICE", Role.ADMIN, PASSWORD)
    assert [s.role for s in services.staff.list(admin)] == [Role.STAFF]


def test_parse_role():
    assert parse_role(" Admin ") == Role.ADMIN
    with pytest.raises(
        ValidationFailed, match="unknown role 'boss': use one of agent, staff, admin"
    ):
        parse_role("boss")


def test_sign_in(services, admin, db, clock):
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    actor = services.staff.sign_in("Alice", PASSWORD)
    assert (actor.username, actor.role) == ("alice", Role.STAFF) and actor.staff_id
    assert services.staff.list(admin)[0].last_sign_in_at == clock.now
    with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
        services.staff.sign_in("alice", "wrong password")
    with pytest.raises(AuthenticationFailed, match="Wrong username or password"):
        services.staff.sign_in("nobody", PASSWORD)
    actions = [action for _who, action, _summary in _audit(db)]
    assert actions[-3:] == ["staff.sign_in", "staff.sign_in_failed", "staff.sign_in_failed"]


def test_lockout_after_five_failures_and_unlock(services, admin, db, clock):
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as failed:
            services.staff.sign_in("alice", "nope nope")
        assert not isinstance(failed.value, AccountLocked)
        clock.advance(seconds=30)

    with pytest.raises(AccountLocked, match="09:47 UTC"):  # 09:32 + 15 minutes
        services.staff.sign_in("alice", "nope nope")
    with pytest.raises(AccountLocked):  # the right password does not help while locked
        services.staff.sign_in("alice", PASSWORD)
    assert services.staff.list(admin)[0].locked_until is not None
    assert ("alice", "staff.locked", "Locked after failed sign-ins") in _audit(db)

    clock.advance(minutes=15)
    services.staff.sign_in("alice", PASSWORD)  # the lock expired

    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            services.staff.sign_in("alice", "nope nope")
    services.staff.unlock(admin, "alice")
    assert services.staff.sign_in("alice", PASSWORD).username == "alice"
    assert _audit(db)[-2][1] == "staff.unlock"


def test_failures_spread_over_time_do_not_lock(services, admin, clock):
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    for _ in range(8):
        with pytest.raises(AuthenticationFailed) as failed:
            services.staff.sign_in("alice", "nope nope")
        assert not isinstance(failed.value, AccountLocked)
        clock.advance(minutes=4)  # the 15-minute window never holds five


def test_a_good_sign_in_resets_the_failure_count(services, admin, clock):
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.staff.sign_in("alice", "nope nope")
    services.staff.sign_in("alice", PASSWORD)
    with pytest.raises(AuthenticationFailed) as failed:
        services.staff.sign_in("alice", "nope nope")
    assert not isinstance(failed.value, AccountLocked)


def test_disabled_staff_cannot_sign_in_and_are_refused_on_their_next_action(
    services, admin, db, make_actor
):
    alice = make_actor(Role.STAFF, "alice")
    services.payers.create(alice, PayerForm(name="Before"))

    services.staff.set_disabled(admin, "alice", True)

    with pytest.raises(PermissionDenied, match="alice is disabled"):
        services.payers.create(alice, PayerForm(name="After"))
    with pytest.raises(PermissionDenied, match="disabled"):
        services.payers.search(alice, "")
    with pytest.raises(AuthenticationFailed, match="disabled"):
        services.staff.sign_in("alice", PASSWORD)
    assert [r.name for r in services.payers.search(admin, "")] == ["Before"]
    assert services.staff.list(admin)[0].disabled

    services.staff.set_disabled(admin, "alice", False)
    services.payers.create(alice, PayerForm(name="Again"))
    actions = [action for _who, action, _summary in _audit(db)]
    assert "staff.disable" in actions and "staff.enable" in actions


def test_managing_an_unknown_staff_member(services, admin):
    with pytest.raises(NotFound, match="no staff member named 'ghost'"):
        services.staff.set_disabled(admin, "ghost", True)
    with pytest.raises(NotFound):
        services.staff.unlock(admin, "ghost")


def test_a_demoted_staff_member_loses_rights_at_once(services, admin, db, make_actor):
    alice = make_actor(Role.STAFF, "alice")
    with db.write() as session:
        session.scalars(select(Staff).where(Staff.username == "alice")).one().role = Role.AGENT
    with pytest.raises(PermissionDenied, match="now agent"):
        services.payers.create(alice, PayerForm(name="Nope"))


def test_refused_sign_ins_are_audited(services, admin, db):
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    services.staff.set_disabled(admin, "alice", True)
    with pytest.raises(AuthenticationFailed):
        services.staff.sign_in("mallory", PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.staff.sign_in("alice", PASSWORD)
    assert _audit(db)[-2:] == [
        ("unknown", "staff.sign_in_failed", "Sign-in refused: an unknown user name"),
        ("alice", "staff.sign_in_failed", "Account disabled"),
    ]


@pytest.mark.parametrize("typed", ["mallory", "hunter2 secret", "Tr0ub4dor&3", "alice2"])
def test_what_is_typed_as_an_unknown_user_name_is_not_logged(services, admin, db, typed):
    """It may be a password typed in the wrong box, and agents read the audit log."""
    services.staff.add(admin, "alice", Role.STAFF, PASSWORD)
    with pytest.raises(AuthenticationFailed):
        services.staff.sign_in(typed, PASSWORD)
    with db.read() as session:
        logged = [(e.actor, e.summary) for e in session.scalars(select(AuditEvent))]
    assert ("unknown", "Sign-in refused: an unknown user name") in logged
    assert not any(typed.casefold() in f"{a} {s}".casefold() for a, s in logged)


@pytest.mark.parametrize("name", ["portal", "unknown", "Portal"])
def test_the_audit_logs_own_actor_names_are_not_staff_user_names(services, admin, name):
    with pytest.raises(ValidationFailed, match="reserved"):
        services.staff.add(admin, name, Role.STAFF, PASSWORD)
