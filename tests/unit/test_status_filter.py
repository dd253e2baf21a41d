"""The payer list's status filter finds exactly the payers whose details show that state, on
both backends, whether the query gathers a status through its indexes or tests each payer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from clientpay_tui.db.models import (
    EmailStatus,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
)
from clientpay_tui.services import tokens
from clientpay_tui.services.payer_status import StatusFilter, shows, status_where
from clientpay_tui.services.payers import AccessStatus, PayerForm


def _payer(services, admin, name, email):
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _login_of(session, payer_id):
    return session.get(PortalLogin, session.get(Payer, payer_id).login_id)


def _last_email(session, payer_id):
    return session.scalars(
        select(OutboxEmail).where(OutboxEmail.payer_id == payer_id).order_by(OutboxEmail.id.desc())
    ).first()


@pytest.fixture
def every_state(services, admin, db, clock):
    """One payer (or two) in each state the details screen tells apart."""
    ids = {}
    ids["expired"] = _payer(services, admin, "Eve Expired", "eve@example.com")
    services.access.grant(admin, ids["expired"])
    clock.advance(days=8)  # her welcome link (7 days) has expired
    for key in ("none", "invited", "no link", "active", "locked", "lock over", "failed"):
        ids[key] = _payer(services, admin, f"Payer {key}", f"{key.replace(' ', '.')}@example.com")
    ids["no email"] = _payer(services, admin, "Nora No Email", None)
    ids["failed then sent"] = _payer(services, admin, "Fay Retried", "fay@example.com")
    ids["locked and failed"] = _payer(services, admin, "Lou Locked", "lou@example.com")
    for key in ("invited", "no link", "active", "locked", "lock over", "failed"):
        services.access.grant(admin, ids[key])
    for key in ("failed then sent", "locked and failed"):
        services.access.grant(admin, ids[key])
    ids["shared"] = _payer(services, admin, "Ian Invited Too", "invited@example.com")
    services.access.grant(admin, ids["shared"])  # attaches to the invited login
    now = clock.now
    with db.write() as session:
        tokens.revoke(session, _login_of(session, ids["no link"]).id, now)
        for key in ("active", "locked", "lock over"):
            _login_of(session, ids[key]).status = LoginStatus.ACTIVE
            _login_of(session, ids[key]).accepted_at = now
        _login_of(session, ids["locked"]).locked_until = now + timedelta(minutes=10)
        _login_of(session, ids["locked and failed"]).locked_until = now + timedelta(minutes=10)
        _login_of(session, ids["lock over"]).locked_until = now - timedelta(seconds=1)
        for key in ("failed", "failed then sent", "locked and failed"):
            _last_email(session, ids[key]).status = EmailStatus.FAILED
    clock.advance(seconds=61)
    services.access.send_reset(admin, ids["failed then sent"])  # a newer email, queued
    return ids


def _expected(services, admin, ids, wanted, now):
    found = set()
    for payer_id in ids.values():
        detail = services.payers.get(admin, payer_id)
        expires = detail.login.welcome_expires_at if detail.login else None
        if shows(wanted, detail.status, expires, now):
            found.add(payer_id)
    return found


def test_the_states_are_what_the_details_screen_shows(services, admin, every_state):
    status = {key: services.payers.get(admin, pid).status for key, pid in every_state.items()}
    assert status == {
        "expired": AccessStatus.INVITED,
        "none": AccessStatus.NONE,
        "invited": AccessStatus.INVITED,
        "no link": AccessStatus.INVITED,
        "active": AccessStatus.ACTIVE,
        "locked": AccessStatus.LOCKED,
        "lock over": AccessStatus.ACTIVE,
        "failed": AccessStatus.EMAIL_FAILED,
        "no email": AccessStatus.NONE,
        "failed then sent": AccessStatus.INVITED,
        "locked and failed": AccessStatus.LOCKED,
        "shared": AccessStatus.INVITED,
    }


@pytest.mark.parametrize("wanted", list(StatusFilter))
def test_each_filter_finds_what_the_details_screen_shows(
    services, admin, db, clock, every_state, wanted
):
    expected = _expected(services, admin, every_state, wanted, clock.now)

    page = services.payers.search(admin, "", 0, 50, wanted)
    count = services.payers.count(admin, "", status=wanted)

    assert {row.id for row in page} == expected
    assert [row.name for row in page] == sorted(row.name for row in page)  # still by name
    assert count == (len(expected), False)
    with db.read() as session:
        for gather in (True, False):  # through the status's indexes, and payer by payer
            where = status_where(session, wanted, clock.now, 50, gather=gather)
            query = select(Payer.id)
            if where is not None:
                query = query.where(where.condition)
            assert set(session.scalars(query)) == expected, f"gather={gather}"


def test_invite_expired_is_the_details_screens_link_expired(services, admin, clock, every_state):
    found = {r.id for r in services.payers.search(admin, "", 0, 50, StatusFilter.INVITE_EXPIRED)}

    assert found == {every_state["expired"], every_state["no link"]}


def test_the_filter_combines_with_the_search_text(services, admin, every_state):
    rows = services.payers.search(admin, "payer", 0, 50, StatusFilter.ACTIVE)

    assert {row.id for row in rows} == {every_state["active"], every_state["lock over"]}
    assert services.payers.count(admin, "lou", status=StatusFilter.LOCKED) == (1, False)
    assert services.payers.count(admin, "lou", status=StatusFilter.ACTIVE) == (0, False)


def test_the_filter_cycles_through_every_state_and_back():
    order = [StatusFilter.ALL]
    while (following := order[-1].next()) != StatusFilter.ALL:
        order.append(following)
    assert [f.value for f in order] == [
        "All",
        "No login",
        "Invited",
        "Invite expired",
        "Active",
        "Locked",
        "Email failed",
    ]


@pytest.mark.parametrize(
    "wanted", [s for s in StatusFilter if s not in (StatusFilter.ALL, StatusFilter.NO_LOGIN)]
)
def test_a_state_nobody_is_in_is_answered_without_reading_the_payers(
    services, admin, db, clock, wanted
):
    """A firm that has invited no one yet: PostgreSQL's plan for an empty login table walked
    every payer in name order to find none (300-480 ms at 100,000 payers)."""
    for n in range(3):
        _payer(services, admin, f"Payer {n}", f"p{n}@example.com")
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert services.payers.search(admin, "", 0, 50, wanted) == []
        assert services.payers.count(admin, "", status=wanted) == (0, False)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    page = [s for s in statements if s.startswith("SELECT payer.id") and "ORDER BY" in s]
    assert page, statements
    assert any(f"WHERE {never}" in page[0] for never in ("false", "0 = 1")), page[0]
