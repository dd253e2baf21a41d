"""Roles are enforced in the service layer, refusals write nothing, and every change is audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from clientpay_tui.db.models import (
    AuditEvent,
    Base,
    EmailStatus,
    IntegrationName,
    OutboxEmail,
    Role,
)
from clientpay_tui.errors import PermissionDenied
from clientpay_tui.seeding.seed import seed
from clientpay_tui.services.associations import Level, Selection
from clientpay_tui.services.payers import PayerForm

PAYERS_CSV = "name,email\nNew Payer,new@example.com\n"
INVOICES_CSV = (
    "client_number,client_name,matter_number,matter_description,invoice_number,invoice_date,"
    "amount,balance,source\nC9,Nine,M9,Work,INV-9,2026-01-02,10.00,5.00,connect\n"
)


@pytest.fixture
def world(services, admin, firm, tmp_path):
    """One of everything a guarded call can act on."""
    services.integrations.set_enabled(admin, IntegrationName.CONNECT, True)
    with_login = services.payers.create(admin, PayerForm(name="Ada", email="ada@example.com")).id
    without = services.payers.create(admin, PayerForm(name="Bob", email="bob@example.com")).id
    services.access.grant(admin, with_login)
    invoice = firm.invoice("INV-1")
    services.associations.create(
        admin, with_login, Level.INVOICE, Selection(invoice_ids=frozenset({invoice.id}))
    )
    [association] = services.associations.for_payer(admin, with_login)
    with services.db.write() as session:
        session.execute(update(OutboxEmail).values(status=EmailStatus.FAILED))
        email_id = session.scalar(select(OutboxEmail.id))
    services.staff.add(admin, "victim", Role.AGENT, "correct horse battery")
    payers_csv = tmp_path / "payers.csv"
    payers_csv.write_text(PAYERS_CSV)
    invoices_csv = tmp_path / "invoices.csv"
    invoices_csv.write_text(INVOICES_CSV)
    return {
        "with_login": with_login,
        "without": without,
        "invoice": invoice.id,
        "association": association.id,
        "email": email_id,
        "payers_csv": payers_csv,
        "invoices_csv": invoices_csv,
    }


def _calls(services, w):
    """Each guarded service call, by name and the lowest role allowed to make it."""
    return {
        "payers.create": (Role.STAFF, lambda a: services.payers.create(a, PayerForm(name="X"))),
        "payers.update": (
            Role.STAFF,
            lambda a: services.payers.update(
                a, w["without"], 1, PayerForm(name="Changed", email="bob@example.com")
            ),
        ),
        "access.grant": (Role.STAFF, lambda a: services.access.grant(a, w["without"])),
        "access.delete_login": (
            Role.STAFF,
            lambda a: services.access.delete_login(a, w["with_login"]),
        ),
        "associations.create": (
            Role.STAFF,
            lambda a: services.associations.create(
                a, w["without"], Level.CLIENT, Selection(invoice_ids=frozenset({w["invoice"]}))
            ),
        ),
        "associations.remove": (
            Role.STAFF,
            lambda a: services.associations.remove(a, w["with_login"], w["association"]),
        ),
        "staff.add": (
            Role.ADMIN,
            lambda a: services.staff.add(a, "newbie", Role.ADMIN, "correct horse battery"),
        ),
        "staff.list": (Role.ADMIN, lambda a: services.staff.list(a)),
        "staff.disable": (Role.ADMIN, lambda a: services.staff.set_disabled(a, "victim", True)),
        "staff.unlock": (Role.ADMIN, lambda a: services.staff.unlock(a, "victim")),
        "integrations.set_enabled": (
            Role.ADMIN,
            lambda a: services.integrations.set_enabled(a, IntegrationName.INVOICING, True),
        ),
        "imports.payers": (Role.STAFF, lambda a: services.imports.payers(a, w["payers_csv"])),
        "imports.invoices": (
            Role.ADMIN,
            lambda a: services.imports.invoices(a, w["invoices_csv"]),
        ),
        "seed": (Role.ADMIN, lambda a: seed(services.ctx, a, payers=2, invoices=2)),
        "access.send_reset": (
            Role.AGENT,
            lambda a: services.access.send_reset(a, w["with_login"], confirmed_resend=True),
        ),
        "outbox.retry": (Role.AGENT, lambda a: services.outbox.retry(a, w["email"])),
    }


RANK = {Role.AGENT: 0, Role.STAFF: 1, Role.ADMIN: 2}
GUARDED = [
    "payers.create",
    "payers.update",
    "access.send_reset",
    "outbox.retry",
    "access.grant",
    "access.delete_login",
    "associations.create",
    "associations.remove",
    "staff.add",
    "staff.list",
    "staff.disable",
    "staff.unlock",
    "integrations.set_enabled",
    "imports.payers",
    "imports.invoices",
    "seed",
]


def _snapshot(db) -> dict[str, list[tuple]]:
    with db.read() as session:
        return {
            table.name: sorted(
                session.execute(text(f'SELECT * FROM "{table.name}"')).all(), key=repr
            )
            for table in Base.metadata.sorted_tables
        }


@pytest.mark.parametrize("role", [Role.AGENT, Role.STAFF])
@pytest.mark.parametrize("call", GUARDED)
def test_role_refusals_write_nothing(services, db, world, make_actor, role, call):
    needed, action = _calls(services, world)[call]
    actor = make_actor(role)
    if RANK[role] >= RANK[needed]:
        action(actor)  # allowed: it must work
        return
    before = _snapshot(db)

    with pytest.raises(PermissionDenied) as refused:
        action(actor)

    assert f"you are {role.value}" in str(refused.value)
    assert "\n" not in str(refused.value)
    assert _snapshot(db) == before


def test_admin_may_make_every_guarded_call(services, world, make_actor):
    actor = make_actor(Role.ADMIN)
    for name in GUARDED:
        _calls(services, world)[name][1](actor)


def test_every_change_is_audited(services, db, world, make_actor):
    actor = make_actor(Role.ADMIN, "auditor")
    calls = _calls(services, world)
    expected = {
        "payers.create": "payer.create",
        "payers.update": "payer.update",
        # Before the reset below activates the login: a failed welcome of a login in use
        # cannot be retried.
        "outbox.retry": "email.retry",
        "access.send_reset": "access.reset",
        "access.grant": "access.grant",
        "access.delete_login": "access.delete",
        "associations.create": "association.create",
        "associations.remove": "association.remove",
        "staff.add": "staff.add",
        "staff.disable": "staff.disable",
        "staff.unlock": "staff.unlock",
        "integrations.set_enabled": "integration.enable",
        "imports.payers": "import.payers",
        "imports.invoices": "import.invoices",
        "seed": "seed",
    }
    for name, action_name in expected.items():
        with db.read() as session:
            last = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        if name == "access.send_reset":
            with db.write() as session:  # make the login active, so that it is a reset
                session.execute(text("UPDATE portal_login SET status = 'active'"))
        calls[name][1](actor)
        with db.read() as session:
            new = list(
                session.execute(
                    select(AuditEvent.actor, AuditEvent.action).where(AuditEvent.id > last)
                )
            )
        assert ("auditor", action_name) in new, (name, new)
    services.integrations.set_enabled(actor, IntegrationName.INVOICING, False)
    with db.read() as session:
        assert (
            session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(1)).one()
            == "integration.disable"
        )


def test_unchanged_integration_writes_no_event(services, admin, db):
    assert services.integrations.set_enabled(admin, IntegrationName.CONNECT, True) is True
    assert services.integrations.set_enabled(admin, IntegrationName.CONNECT, True) is False
    with db.read() as session:
        actions = list(session.scalars(select(AuditEvent.action)))
    assert actions == ["integration.enable"]


def test_audit_for_payer_lists_newest_first(services, admin, world):
    entries = services.audit.for_payer(admin, world["with_login"])
    assert [e.action for e in entries] == ["association.create", "access.grant", "payer.create"]
    assert services.audit.recent(admin, limit=1)[0].action == "staff.add"
