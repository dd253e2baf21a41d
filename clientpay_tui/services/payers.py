"""Payers: details, create and edit with optimistic locking (search: :mod:`.payer_search`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from clientpay_tui.db.models import AuditEvent, Payer, PortalLogin
from clientpay_tui.errors import EmailChangeNeedsLoginMove, NotFound, StaleEdit, ValidationFailed
from clientpay_tui.services import audit, validation
from clientpay_tui.services.access import AccessService
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.payer_search import (
    EmailSummary,
    PayerSearch,
    access_status,
    last_access_emails,
)
from clientpay_tui.services.payer_status import AccessStatus, StatusFilter, welcome_expiries

__all__ = [
    "AccessStatus",
    "EmailSummary",
    "LoginState",
    "PayerDetail",
    "PayerForm",
    "PayerService",
    "StatusFilter",
    "access_status",
]


@dataclass(frozen=True)
class LoginState:
    login_id: int
    status: AccessStatus
    invited_at: datetime
    welcome_expires_at: datetime | None
    accepted_at: datetime | None
    last_sign_in_at: datetime | None
    locked_until: datetime | None
    other_payers: int
    """How many other payer records share this login (same email address)."""


@dataclass(frozen=True)
class PayerDetail:
    id: int
    name: str
    email: str | None
    phone: str | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    status: AccessStatus
    login: LoginState | None
    last_email: EmailSummary | None
    mfa_exempt: bool = False
    """Staff let this payer sign in to the portal without the emailed code."""


@dataclass(frozen=True)
class PayerForm:
    """The editable fields as the user typed them (validated by the service)."""

    name: str
    email: str | None = None
    phone: str | None = None
    notes: str | None = None


class PayerService(PayerSearch):
    """Payers for the screens: search and paging (:class:`PayerSearch`), details, create, edit."""

    def __init__(self, ctx: ServiceContext, access: AccessService) -> None:
        super().__init__(ctx)
        self.access = access

    def get(self, actor: Actor, payer_id: int) -> PayerDetail:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return self._detail(session, payer_id)

    def _detail(self, session: Session, payer_id: int) -> PayerDetail:
        payer = session.get(Payer, payer_id)
        if payer is None:
            raise NotFound(f"Payer {payer_id} does not exist (any more).")
        now = self.ctx.clock()
        last_email = last_access_emails(session, [payer.id]).get(payer.id)
        login_state = None
        login = session.get(PortalLogin, payer.login_id) if payer.login_id else None
        if login is not None:
            others = session.scalar(
                select(func.count())
                .select_from(Payer)
                .where(Payer.login_id == login.id, Payer.id != payer.id)
            )
            expires = welcome_expiries(session, [login.id]).get(login.id)
            login_state = LoginState(
                login_id=login.id,
                status=access_status(login, last_email, now),
                invited_at=login.created_at,
                welcome_expires_at=expires,
                accepted_at=login.accepted_at,
                last_sign_in_at=login.last_sign_in_at,
                locked_until=login.locked_until,
                other_payers=int(others or 0),
            )
        return PayerDetail(
            id=payer.id,
            name=payer.name,
            email=payer.email,
            phone=payer.phone,
            notes=payer.notes,
            version=payer.version,
            created_at=payer.created_at,
            updated_at=payer.updated_at,
            status=access_status(login, last_email, now),
            login=login_state,
            last_email=last_email,
            mfa_exempt=payer.mfa_exempt,
        )

    def create(self, actor: Actor, form: PayerForm) -> PayerDetail:
        now = self.ctx.clock()
        name = validation.payer_name(form.name)
        email = validation.email_address(form.email)
        phone = validation.phone_number(form.phone)
        notes = validation.notes_text(form.notes)
        with self.ctx.db.write() as session:
            require(session, actor, Permission.EDIT_PAYERS)
            payer = Payer(
                name=name,
                sort_name=validation.search_key(name),
                email=email[0] if email else None,
                email_key=email[1] if email else None,
                phone=phone,
                notes=notes,
                created_at=now,
                updated_at=now,
            )
            session.add(payer)
            session.flush()
            audit.record(session, now, actor, "payer.create", f"Created payer {name}", payer.id)
            return self._detail(session, payer.id)

    def update(
        self,
        actor: Actor,
        payer_id: int,
        expected_version: int,
        form: PayerForm,
        *,
        move_login: bool = False,
    ) -> PayerDetail:
        """Save the edited fields if nobody else saved since ``expected_version`` was read.

        Raises:
            StaleEdit: the payer changed since it was loaded; nothing was written.
            EmailChangeNeedsLoginMove: the email changed on a payer with a login and
                ``move_login`` was not given.
        """
        now = self.ctx.clock()
        name = validation.payer_name(form.name)
        email = validation.email_address(form.email)
        phone = validation.phone_number(form.phone)
        notes = validation.notes_text(form.notes)
        try:
            with self.ctx.db.write() as session:
                require(session, actor, Permission.EDIT_PAYERS)
                payer = session.get(Payer, payer_id, with_for_update=True)
                if payer is None:
                    raise NotFound(f"Payer {payer_id} does not exist (any more).")
                if payer.version != expected_version:
                    raise self._stale(session, payer)
                # Read before changing fields: the query would autoflush a half-made edit and
                # bump the version twice for one save.
                old_email = _login_email(session, payer)
                changes = self._apply(payer, name, email, phone, notes)
                if not changes:
                    return self._detail(session, payer.id)
                new_key = email[1] if email else None
                if "email" in changes and payer.login_id is not None and old_email != new_key:
                    if new_key is None:
                        raise ValidationFailed(
                            "This payer has login access: delete the login before removing "
                            "the email address."
                        )
                    if not move_login:
                        raise EmailChangeNeedsLoginMove(old_email or "", email[0] if email else "")
                    payer.updated_at = now
                    session.flush()
                    self.access.move_login(session, actor, payer, now)
                else:
                    payer.updated_at = now
                    session.flush()
                audit.record(
                    session,
                    now,
                    actor,
                    "payer.update",
                    f"Changed {', '.join(changes)} of {payer.name}",
                    payer.id,
                )
                return self._detail(session, payer.id)
        except StaleDataError:
            with self.ctx.db.read() as session:
                payer = session.get(Payer, payer_id)
                raise self._stale(session, payer) from None

    @staticmethod
    def _apply(
        payer: Payer,
        name: str,
        email: tuple[str, str] | None,
        phone: str | None,
        notes: str | None,
    ) -> list[str]:
        changes = []
        if payer.name != name:
            payer.name, payer.sort_name = name, validation.search_key(name)
            changes.append("name")
        new_email, new_key = email if email else (None, None)
        if payer.email != new_email:
            payer.email, payer.email_key = new_email, new_key
            changes.append("email")
        if payer.phone != phone:
            payer.phone = phone
            changes.append("phone")
        if payer.notes != notes:
            payer.notes = notes
            changes.append("notes")
        return changes

    @staticmethod
    def _stale(session: Session, payer: Payer | None) -> StaleEdit:
        if payer is None:
            return StaleEdit("This payer was deleted by someone else; nothing was saved.")
        last = session.execute(
            select(AuditEvent.actor, AuditEvent.at)
            .where(AuditEvent.payer_id == payer.id, AuditEvent.action == "payer.update")
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(1)
        ).first()
        who = f" by {last.actor} at {last.at:%H:%M:%S} UTC" if last else ""
        return StaleEdit(
            f"Someone else saved this payer{who} after you opened it. Nothing was overwritten."
        )


def _login_email(session: Session, payer: Payer) -> str | None:
    if payer.login_id is None:
        return None
    login = session.get(PortalLogin, payer.login_id)
    return login.email_key if login else None
