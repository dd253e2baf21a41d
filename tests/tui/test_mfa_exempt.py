"""Staff exempt one payer from the portal's emailed sign-in code: a switch on the Payer
Information tab, audited, shown in the status text; agents may not."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.widgets import Switch

from clientpay_tui.db.models import AuditEvent
from clientpay_tui.errors import PermissionDenied
from tests.tui.conftest import open_details, payer_row, toasts, until


def _audit(services, payer_id: int) -> list[tuple[str, str, str]]:
    with services.db.read() as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.summary)
            .where(AuditEvent.payer_id == payer_id, AuditEvent.action == "access.mfa_exempt")
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]


def test_the_service_sets_it_audited_and_refuses_agents(services, admin, add_payer, staff, agent):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    with pytest.raises(PermissionDenied, match="Only staff or above may edit payers"):
        services.access.set_mfa_exempt(agent, payer, True)
    assert services.access.set_mfa_exempt(staff, payer, True) is True
    assert services.access.set_mfa_exempt(staff, payer, True) is False  # no change, no event
    assert services.payers.get(staff, payer).mfa_exempt is True
    assert services.access.set_mfa_exempt(staff, payer, False) is True
    assert payer_row(services, payer).mfa_exempt is False
    assert _audit(services, payer) == [
        ("sam", "access.mfa_exempt", "Exempted from the emailed sign-in code (MFA)"),
        ("sam", "access.mfa_exempt", "No longer exempt from the emailed sign-in code (MFA)"),
    ]


async def test_staff_flip_the_switch_from_the_keyboard(make_app, staff, services, add_payer, admin):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.grant(admin, payer)
    app = make_app(staff)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        switch = screen.query_one("#mfa-exempt", Switch)
        assert switch.value is False and not switch.disabled
        status = screen.query_one("#access-status")
        assert "MFA exempt" not in str(status.render())
        switch.focus()
        await pilot.press("space")
        await until(pilot, lambda: screen.detail.mfa_exempt)
        assert switch.value is True
        assert str(status.render()).endswith(" · MFA exempt")
        assert "without the emailed code" in str(screen.query_one("#mfa-status").render())
        assert "Ada Lovelace signs in without the emailed code." in toasts(app)
        await pilot.press("space")
        await until(pilot, lambda: not screen.detail.mfa_exempt)
        assert switch.value is False and "MFA exempt" not in str(status.render())
    assert payer_row(services, payer).mfa_exempt is False
    assert [action for _who, action, _what in _audit(services, payer)] == ["access.mfa_exempt"] * 2


async def test_agents_see_the_switch_disabled_with_the_reason(
    make_app, agent, services, add_payer, admin
):
    payer = add_payer("Ada Lovelace", "ada@example.com")
    services.access.set_mfa_exempt(admin, payer, True)
    app = make_app(agent)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_details(app, pilot, payer)
        switch = screen.query_one("#mfa-exempt", Switch)
        assert switch.value is True and switch.disabled
        assert switch.tooltip == "Only staff or above may edit payers; you are agent."
    assert payer_row(services, payer).mfa_exempt is True
