"""Fixtures for the portal tests: invited and active payers, links read from the outbox."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from clientpay_tui.db.models import AuditEvent, OutboxEmail
from clientpay_tui.portal import Portal
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm

GOOD_PASSWORD = "violet tundra anvil"
OTHER_PASSWORD = "saffron quarry lantern"
_LINK = re.compile(r"https://portal\.test/(welcome|reset)\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def portal(services: Services) -> Portal:
    """The portal without its response floor, so tests run fast (timing tests make their own)."""
    return Portal(services, floor_seconds=0)


def link_in(services: Services, email_id: int) -> tuple[str, str]:
    """``(purpose, raw token)`` of the link in a queued email's text body."""
    with services.db.read() as session:
        body = session.get(OutboxEmail, email_id).body_text
    found = _LINK.search(body or "")
    assert found, body
    return found.group(1), found.group(2)


def latest_link(services: Services) -> tuple[str, str]:
    with services.db.read() as session:
        email_id = session.scalar(select(OutboxEmail.id).order_by(OutboxEmail.id.desc()))
    return link_in(services, email_id)


def audit_actions(services: Services, payer_id: int | None = None) -> list[str]:
    """Actions recorded (oldest first), for one payer or for none (``payer_id IS NULL``)."""
    with services.db.read() as session:
        query = select(AuditEvent.action).order_by(AuditEvent.id)
        query = query.where(
            AuditEvent.payer_id == payer_id
            if payer_id is not None
            else AuditEvent.payer_id.is_(None)
        )
        return list(session.scalars(query))


@dataclass
class Invited:
    payer_id: int
    email: str
    token: str


@pytest.fixture
def invite(services: Services, admin):
    """Create a payer and grant login access; returns the payer and its welcome token."""

    def make(name: str = "Ada Lovelace", email: str = "ada@example.com") -> Invited:
        payer = services.payers.create(admin, PayerForm(name=name, email=email))
        queued = services.access.grant(admin, payer.id)
        purpose, token = link_in(services, queued.email_id)
        assert purpose == "welcome"
        return Invited(payer.id, email, token)

    return make


@pytest.fixture
def active(invite, portal: Portal):
    """A payer who accepted the invitation with :data:`GOOD_PASSWORD`."""

    def make(name: str = "Ada Lovelace", email: str = "ada@example.com") -> Invited:
        invited = invite(name, email)
        portal.links.accept_invitation(invited.token, GOOD_PASSWORD, GOOD_PASSWORD)
        return invited

    return make
