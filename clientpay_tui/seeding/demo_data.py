"""Demo data for ``clientpay-tui demo``: a small firm with payers in every login state.

Deterministic for a given seed and clock (screenshots and tests rely on it), written in one
transaction through the ORM. Emails of the past are stored as already sent, so starting the
demo does not send a burst of old mail; what staff do in the demo is sent for real to the
local capture server.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.config import Settings
from clientpay_tui.db.models import (
    AuditEvent,
    EmailKind,
    EmailStatus,
    Integration,
    IntegrationName,
    LoginStatus,
    OutboxEmail,
    Payer,
    PortalLogin,
    Role,
    Staff,
    TokenPurpose,
)
from clientpay_tui.errors import NotFound
from clientpay_tui.mail.compose import ComposedEmail, compose
from clientpay_tui.seeding.demo_catalog import (
    FIRST,
    LAST,
    SPECIAL_PAYERS,
    add_catalog,
    add_history,
)
from clientpay_tui.services import passwords, tokens, validation
from clientpay_tui.services.context import Actor, ServiceContext

DEMO_ADMIN = "demo"
DEMO_PASSWORD = "clientpay-demo"  # noqa: S105 - published: the demo's staff sign in with it
DEMO_STAFF = ((DEMO_ADMIN, Role.ADMIN), ("sam", Role.STAFF), ("alex", Role.AGENT))
DEMO_DOMAIN = "clientpay.demo"


@dataclass(frozen=True)
class DemoReport:
    payers: int
    clients: int
    matters: int
    invoices: int
    admin: Actor


def demo_admin(ctx: ServiceContext) -> Actor:
    """The demo's admin, as a signed-in actor (the demo skips the sign-in screen)."""
    return demo_actor(ctx, DEMO_ADMIN)


def demo_actor(ctx: ServiceContext, username: str) -> Actor:
    """One of the demo's staff accounts (:data:`DEMO_STAFF`) as a signed-in actor."""
    with ctx.db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).first()
        if staff is None:
            raise NotFound(
                f"This database holds no demo account {username!r}: "
                "run `clientpay-tui demo --fresh`."
            )
        return Actor(username=staff.username, role=staff.role, staff_id=staff.id)


def sign_in_hint() -> str:
    """What the demo's sign-in screen says after Sign out: who to sign in as."""
    accounts = ", ".join(f"{name} ({role.value})" for name, role in DEMO_STAFF)
    return f"Demo accounts: {accounts}; password {DEMO_PASSWORD}."


def has_demo_data(ctx: ServiceContext) -> bool:
    with ctx.db.read() as session:
        return session.scalar(select(Staff.id).where(Staff.username == DEMO_ADMIN)) is not None


def create_demo_data(ctx: ServiceContext, *, payers: int = 200, seed: int = 7) -> DemoReport:
    """Fill an empty database with the demo firm. Returns what was added."""
    rng = random.Random(seed)
    now = ctx.clock()
    staff_hash = passwords.hash_password(DEMO_PASSWORD)  # once: argon2 is deliberately slow
    with ctx.db.write() as session:
        for username, role in DEMO_STAFF:
            session.add(
                Staff(
                    username=username,
                    role=role,
                    password_hash=staff_hash,
                    disabled=False,
                    failed_attempts=0,
                    created_at=now - timedelta(days=400),
                )
            )
        for integration in IntegrationName:
            session.add(
                Integration(name=integration, enabled=True, updated_at=now, updated_by="demo")
            )
        catalog = add_catalog(session, rng, now.date())
        builder = _PayerBuilder(session, rng, now, ctx.settings)
        for index, (name, email, state) in enumerate(SPECIAL_PAYERS):
            builder.add(index, name, email, state)
        for index in range(len(SPECIAL_PAYERS), payers):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first}.{last}.{index}@example.com".lower().replace("'", "")
            state = rng.choices(
                ["none", "invited", "active", "locked", "failed", "no-email"],
                weights=[55, 15, 20, 3, 3, 4],
            )[0]
            builder.add(index, f"{first} {last}", None if state == "no-email" else email, state)
        session.flush()
        add_history(session, rng, now, catalog, builder.payers)
        session.flush()
        admin = session.scalars(select(Staff).where(Staff.username == DEMO_ADMIN)).one()
        actor = Actor(username=admin.username, role=admin.role, staff_id=admin.id)
    return DemoReport(
        payers=len(builder.payers),
        clients=len(catalog.clients),
        matters=len(catalog.matters),
        invoices=len(catalog.invoices),
        admin=actor,
    )


class _PayerBuilder:
    """Payers with their logins, tokens, past emails and audit trail."""

    def __init__(
        self, session: Session, rng: random.Random, now: datetime, settings: Settings
    ) -> None:
        self.session = session
        self.rng = rng
        self.now = now
        self.portal = settings.portal_url
        self.firm = settings.firm_name
        self.payers: list[tuple[Payer, str]] = []
        self.logins: dict[str, PortalLogin] = {}
        self.login_hash = passwords.hash_password("demo portal password")
        self.emails = 0

    def add(self, index: int, name: str, email: str | None, state: str) -> None:
        created = self.now - timedelta(days=30 + self.rng.randrange(700))
        key = email.casefold() if email else None
        payer = Payer(
            name=name,
            sort_name=validation.search_key(name),
            email=email,
            email_key=key,
            created_at=created,
            updated_at=created,
        )
        self.session.add(payer)
        self.session.flush()
        self.payers.append((payer, state))
        if email is None or state in ("none", "no-email"):
            return
        login = self.logins.get(key or "")
        if login is None:
            login = self._login(payer, state)
            self.logins[key or ""] = login
        payer.login_id = login.id

    def _login(self, payer: Payer, state: str) -> PortalLogin:
        invited = self.now - timedelta(
            days=2 if state == "invited" else 20 + self.rng.randrange(300)
        )
        accepted = None if state in ("invited", "failed") else invited + timedelta(hours=5)
        login = PortalLogin(
            email_key=payer.email_key or "",
            status=LoginStatus.INVITED if accepted is None else LoginStatus.ACTIVE,
            password_hash=self.login_hash if accepted else None,
            created_at=invited,
            accepted_at=accepted,
            last_sign_in_at=self.now - timedelta(hours=self.rng.randrange(1, 400))
            if accepted
            else None,
            failed_attempts=0,
            locked_until=self.now + timedelta(minutes=45) if state == "locked" else None,
        )
        self.session.add(login)
        self.session.flush()
        raw, expires = tokens.issue(
            self.session, login, TokenPurpose.WELCOME, invited, timedelta(days=7)
        )
        composed = compose(
            EmailKind.WELCOME,
            firm_name=self.firm,
            payer_name=payer.name,
            portal_url=self.portal,
            link=f"{self.portal}/welcome?token={raw}",
            expires_at=expires,
        )
        self._email(payer, invited, composed, failed=state == "failed")
        self.session.add(
            AuditEvent(
                at=invited,
                actor="sam",
                action="access.grant",
                payer_id=payer.id,
                summary=f"Granted login access; welcome email queued to {payer.email}",
            )
        )
        return login

    def _email(self, payer: Payer, at: datetime, email: ComposedEmail, *, failed: bool) -> None:
        """A welcome email of the past: sent (its body redacted, as the sender does), or
        failed and kept whole so that staff can try Retry on the Mail screen."""
        self.emails += 1
        self.session.add(
            OutboxEmail(
                kind=EmailKind.WELCOME,
                payer_id=payer.id,
                to_address=payer.email or "",
                to_name=payer.name,
                subject=email.subject,
                body_text=email.text if failed else None,
                body_html=email.html if failed else None,
                message_id=f"<demo-{self.emails}@{DEMO_DOMAIN}>",
                status=EmailStatus.FAILED if failed else EmailStatus.SENT,
                attempts=1,
                next_attempt_at=at,
                last_error="550 5.1.1 Mailbox unavailable" if failed else None,
                requested_by="sam",
                created_at=at,
                sent_at=None if failed else at + timedelta(seconds=2),
            )
        )
