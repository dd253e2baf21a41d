"""Bulk grant and bulk re-send: planned with the reasons for every skip, then each payer done
through the one-payer service in its own transaction, on both backends."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from clientpay_tui.db.models import AuditEvent, EmailKind, OutboxEmail, Payer, Role
from clientpay_tui.errors import PermissionDenied
from clientpay_tui.services.bulk_access import (
    SKIP_HAS_ACCESS,
    SKIP_NO_EMAIL,
    SKIP_NO_LOGIN,
    BulkAction,
    PayerQuery,
    PayerSelection,
)
from clientpay_tui.services.payers import PayerForm, StatusFilter


def _payer(services, admin, name, email):
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _emails(db):
    with db.read() as session:
        rows = session.execute(
            select(OutboxEmail.kind, OutboxEmail.to_address).order_by(OutboxEmail.id)
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def payers(services, admin, clock):
    ids = {
        "ada": _payer(services, admin, "Ada", "ada@example.com"),
        "bob": _payer(services, admin, "Bob", "bob@example.com"),
        "bob2": _payer(services, admin, "Bob Two", "BOB@example.com"),  # shares Bob's address
        "nora": _payer(services, admin, "Nora", None),
        "gina": _payer(services, admin, "Gina", "gina@example.com"),
        "lim": _payer(services, admin, "Lim", "lim@example.com"),
    }
    services.access.grant(admin, ids["gina"])
    # Lim's login was deleted after five welcome emails: the limit holds the next one back.
    for _ in range(5):
        services.access.grant(admin, ids["lim"])
        services.access.delete_login(admin, ids["lim"])
        clock.advance(minutes=2)
    return ids


def test_plan_says_how_many_payers_and_addresses_and_who_is_skipped(services, admin, payers):
    plan = services.bulk_access.plan(admin, BulkAction.GRANT, PayerSelection(matching=PayerQuery()))

    assert [name for _id, name in plan.targets] == ["Ada", "Bob", "Bob Two"]
    assert (plan.selected, plan.addresses) == (6, 2)
    reasons = {s.name: s.reason for s in plan.skipped}
    assert reasons["Nora"] == SKIP_NO_EMAIL
    assert reasons["Gina"] == SKIP_HAS_ACCESS
    assert reasons["Lim"].startswith("over the email limit (5 in 30 min; next at")
    assert dict(plan.skipped_by_reason())[SKIP_NO_EMAIL] == 1


def test_run_grants_each_payer_in_its_own_transaction_with_its_email(services, admin, db, payers):
    selection = PayerSelection(payer_ids=frozenset({payers["ada"], payers["bob"], payers["bob2"]}))
    plan = services.bulk_access.plan(admin, BulkAction.GRANT, selection)
    before = len(_emails(db))
    seen = []

    result = services.bulk_access.run(admin, plan, seen.append)

    assert (result.emailed, result.skipped, result.stopped) == (3, [], False)
    assert [(p.done, p.total, p.name, p.skipped) for p in seen] == [
        (1, 3, "Ada", None),
        (2, 3, "Bob", None),
        (3, 3, "Bob Two", None),
    ]
    new = _emails(db)[before:]
    # Bob Two shares Bob's address: attached to the login Bob's grant made, with a notice.
    assert new == [
        (EmailKind.WELCOME, "ada@example.com"),
        (EmailKind.WELCOME, "bob@example.com"),
        (EmailKind.ACCESS_ADDED, "BOB@example.com"),
    ]
    with db.read() as session:
        assert session.scalar(select(func.count()).where(Payer.login_id.is_not(None))) == 4
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.payer_id == payers["bob2"])
        ).all()
    assert actions == ["payer.create", "access.attach"]


def test_what_changed_since_the_plan_is_skipped_with_the_services_reason(services, admin, payers):
    plan = services.bulk_access.plan(
        admin, BulkAction.GRANT, PayerSelection(payer_ids=frozenset({payers["ada"]}))
    )
    services.access.grant(admin, payers["ada"])  # another session, meanwhile

    result = services.bulk_access.run(admin, plan)

    assert result.emailed == 0
    assert [(s.name, s.reason) for s in result.skipped] == [
        ("Ada", "Ada already has login access.")
    ]


def test_stop_ends_the_run_after_the_current_payer(services, admin, db, payers):
    plan = services.bulk_access.plan(admin, BulkAction.GRANT, PayerSelection(matching=PayerQuery()))
    stop = threading.Event()

    def progress(step):
        stop.set()  # as if escape was pressed while the first payer was being granted

    result = services.bulk_access.run(admin, plan, progress, stop.is_set)

    assert (result.emailed, result.stopped, result.not_done) == (1, True, 2)


def test_select_all_takes_every_match_of_search_and_filter_but_the_excluded(
    services, admin, payers
):
    selection = PayerSelection(
        matching=PayerQuery("b", StatusFilter.NO_LOGIN), excluded=frozenset({payers["bob2"]})
    )

    assert services.bulk_access.selected_ids(admin, selection) == [payers["bob"]]


def test_agents_may_not_bulk_grant_but_may_resend(services, admin, make_actor, payers):
    agent = make_actor(Role.AGENT)
    everyone = PayerSelection(matching=PayerQuery())

    with pytest.raises(PermissionDenied):
        services.bulk_access.plan(agent, BulkAction.GRANT, everyone)
    assert services.bulk_access.plan(agent, BulkAction.RESEND, everyone).selected == 6


def test_resend_goes_only_to_expired_invitations(services, admin, db, clock, payers):
    services.access.grant(admin, payers["ada"])
    clock.advance(days=8)  # Ada's and Gina's links have expired
    services.access.grant(admin, payers["bob"])  # Bob's is new
    plan = services.bulk_access.plan(
        admin, BulkAction.RESEND, PayerSelection(matching=PayerQuery())
    )
    assert [name for _id, name in plan.targets] == ["Ada", "Gina"]
    reasons = {s.name: s.reason for s in plan.skipped}
    assert reasons["Bob"] == "invitation still valid"
    assert reasons["Nora"] == SKIP_NO_EMAIL
    assert reasons["Lim"] == SKIP_NO_LOGIN
    before = len(_emails(db))

    result = services.bulk_access.run(admin, plan)

    assert result.emailed == 2
    new = _emails(db)[before:]
    assert new == [
        (EmailKind.WELCOME, "ada@example.com"),
        (EmailKind.WELCOME, "gina@example.com"),
    ]
    for payer_id in (payers["ada"], payers["gina"]):
        detail = services.payers.get(admin, payer_id)
        assert detail.login.welcome_expires_at > clock.now  # a fresh link


def test_resend_refuses_an_invitation_accepted_since_the_plan(services, admin, clock, payers):
    services.access.grant(admin, payers["ada"])
    clock.advance(days=8)
    plan = services.bulk_access.plan(
        admin, BulkAction.RESEND, PayerSelection(payer_ids=frozenset({payers["ada"]}))
    )
    services.access.send_reset(admin, payers["ada"])  # someone re-sent it meanwhile

    result = services.bulk_access.run(admin, plan)

    assert result.emailed == 0
    assert result.skipped[0].reason == "The invitation of Ada is still valid."
