"""Firm integrations: Connect (associations decide what a payer sees) and internal invoicing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Integration, IntegrationName
from clientpay_tui.services import audit
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require


def enabled_integrations(session: Session) -> frozenset[IntegrationName]:
    return frozenset(session.scalars(select(Integration.name).where(Integration.enabled)))


class IntegrationService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def enabled(self, actor: Actor) -> frozenset[IntegrationName]:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return enabled_integrations(session)

    def set_enabled(self, actor: Actor, name: IntegrationName, enabled: bool) -> bool:
        """Turn an integration on or off. Returns whether anything changed."""
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_INTEGRATIONS)
            row = session.get(Integration, name, with_for_update=True)
            if row is not None and row.enabled == enabled:
                return False
            if row is None:
                row = Integration(
                    name=name, enabled=enabled, updated_at=now, updated_by=actor.username
                )
                session.add(row)
            else:
                row.enabled, row.updated_at, row.updated_by = enabled, now, actor.username
            verb = "Enabled" if enabled else "Disabled"
            audit.record(
                session,
                now,
                actor,
                f"integration.{'enable' if enabled else 'disable'}",
                f"{verb} the {name.value} integration",
            )
            return True
