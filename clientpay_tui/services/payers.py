"""Payers: search and paging for the list, details, create and edit with optimistic locking."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, func, or_, select, union
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from clientpay_tui.db.models import (
    Association,
    AuditEvent,
    Client,
    EmailKind,
    EmailStatus,
    Invoice,
    LoginStatus,
    Matter,
    OutboxEmail,
    Payer,
    PortalLogin,
)
from clientpay_tui.db.search_index import contains, count_matches, prefix_range
from clientpay_tui.errors import EmailChangeNeedsLoginMove, NotFound, StaleEdit, ValidationFailed
from clientpay_tui.services import audit, validation
from clientpay_tui.services.access import AccessService
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.payer_status import (
    ACCESS_EMAILS,
    AccessStatus,
    StatusFilter,
    probe,
    status_where,
    welcome_expiries,
)

BROAD_MATCH_MIN = 1000
"""Fewer contains-matches than this are always gathered through the search index."""
BROAD_CLIENTS = 200
"""A client-number prefix matching this many clients is searched payer by payer."""


@dataclass(frozen=True)
class EmailSummary:
    id: int
    kind: EmailKind
    status: EmailStatus
    to_address: str
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class PayerRow:
    id: int
    name: str
    email: str | None
    status: AccessStatus
    last_email_at: datetime | None


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


def access_status(
    login: PortalLogin | None, last_email: EmailSummary | None, now: datetime
) -> AccessStatus:
    if login is None:
        return AccessStatus.NONE
    if login.locked_until is not None and login.locked_until > now:
        return AccessStatus.LOCKED
    if last_email is not None and last_email.status == EmailStatus.FAILED:
        return AccessStatus.EMAIL_FAILED
    return AccessStatus.INVITED if login.status == LoginStatus.INVITED else AccessStatus.ACTIVE


def _last_access_emails(session: Session, payer_ids: Iterable[int]) -> dict[int, EmailSummary]:
    ids = list(payer_ids)
    if not ids:
        return {}
    latest = (
        select(func.max(OutboxEmail.id))
        .where(OutboxEmail.payer_id.in_(ids), OutboxEmail.kind.in_(ACCESS_EMAILS))
        .group_by(OutboxEmail.payer_id)
    )
    rows = session.scalars(select(OutboxEmail).where(OutboxEmail.id.in_(latest)))
    return {
        row.payer_id: EmailSummary(
            row.id,
            row.kind,
            row.status,
            row.to_address,
            row.created_at,
            row.sent_at,
            row.last_error,
        )
        for row in rows
        if row.payer_id is not None
    }


def _last_sent(session: Session, payer_ids: Iterable[int]) -> dict[int, datetime]:
    ids = list(payer_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(OutboxEmail.payer_id, func.max(OutboxEmail.sent_at))
        .where(OutboxEmail.payer_id.in_(ids), OutboxEmail.sent_at.is_not(None))
        .group_by(OutboxEmail.payer_id)
    )
    return {payer_id: sent for payer_id, sent in rows if payer_id is not None and sent is not None}


class PayerService:
    def __init__(self, ctx: ServiceContext, access: AccessService) -> None:
        self.ctx = ctx
        self.access = access

    # -- search ------------------------------------------------------------------------------

    def _where(
        self,
        session: Session,
        text: str,
        rows_wanted: int,
        status: StatusFilter = StatusFilter.ALL,
    ) -> ColumnElement[bool] | None:
        """The payers the list shows for ``text`` and ``status`` (``None``: every payer)."""
        by_text, narrow = self._text_where(session, text, rows_wanted)
        by_status = status_where(session, status, self.ctx.clock(), rows_wanted, gather=not narrow)
        if by_status is None:
            return by_text
        if by_text is None:
            return by_status.condition
        return and_(by_text, by_status.condition)

    def _text_where(
        self, session: Session, text: str, rows_wanted: int
    ) -> tuple[ColumnElement[bool] | None, bool]:
        """Name or email contains ``text``, or an associated client's number starts with it;
        and whether that condition gathers few payers through an index (narrow).

        A condition on ``payer`` itself (not ``id IN (subquery)``), so that the planner can walk
        ``ix_payer_sort`` and stop after a page. The contains-index is used only when it finds
        few rows: for many (``example.com``: every payer) walking the name order finds a page
        at once, while gathering every match first costs ~100 ms at 100,000 payers.
        """
        key = validation.search_key(text)
        if not key:
            return None, False
        dialect = self.ctx.db.engine.dialect.name
        keys = [Payer.sort_name, Payer.email_key]
        # Walking reads ~rows_wanted * payers / matches rows; gathering reads ~matches.
        payers = int(session.scalar(select(func.max(Payer.id))) or 0)
        threshold = max(BROAD_MATCH_MIN, math.isqrt(rows_wanted * payers))
        found = count_matches(session.connection(), keys, key, threshold)
        use_index = found is None or found < threshold
        narrow = found is not None and found < threshold
        by_text = contains(dialect, Payer.id, keys, key, use_index=use_index)
        by_client = _by_client_number(session, validation.number_key(text))
        if by_client is None:
            return by_text, narrow
        if isinstance(by_client, CompoundSelect):
            if use_index:
                # Few of both: gather each through its index and sort the few found. An OR
                # walked every payer in name order to find them (50 ms for 'c00004' on
                # PostgreSQL, which cannot OR a trigram index with a list of ids).
                gathered: CompoundSelect[Any] = union(
                    select(Payer.id).where(by_text), *by_client.selects
                )
                return Payer.id.in_(gathered), narrow
            return or_(by_text, Payer.id.in_(by_client)), False
        return or_(by_text, by_client), False

    def search(
        self,
        actor: Actor,
        text: str = "",
        offset: int = 0,
        limit: int = 50,
        status: StatusFilter = StatusFilter.ALL,
    ) -> list[PayerRow]:
        """One page of payers matching ``text`` (name or email contains it, or an associated
        client's number starts with it) whose login state ``status`` shows, ordered by name."""
        now = self.ctx.clock()
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            query = select(Payer.id, Payer.name, Payer.email, Payer.login_id)
            where = self._where(session, text, offset + limit, status)
            if where is not None:
                query = query.where(where)
            page = session.execute(
                query.order_by(Payer.sort_name, Payer.id).offset(offset).limit(limit)
            ).all()
            login_ids = {row.login_id for row in page if row.login_id is not None}
            logins = {
                login.id: login
                for login in session.scalars(
                    select(PortalLogin).where(PortalLogin.id.in_(login_ids))
                )
            }
            ids = [row.id for row in page]
            last_email = _last_access_emails(session, ids)
            last_sent = _last_sent(session, ids)
            return [
                PayerRow(
                    id=row.id,
                    name=row.name,
                    email=row.email,
                    status=access_status(
                        logins.get(row.login_id) if row.login_id else None,
                        last_email.get(row.id),
                        now,
                    ),
                    last_email_at=last_sent.get(row.id),
                )
                for row in page
            ]

    def count(
        self,
        actor: Actor,
        text: str = "",
        cap: int = 10_000,
        status: StatusFilter = StatusFilter.ALL,
    ) -> tuple[int, bool]:
        """How many payers match (as :meth:`search`), counted up to ``cap``. Returns
        ``(count, capped)``."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            query = select(Payer.id)
            where = self._where(session, text, cap + 1, status)
            if where is not None:
                query = query.where(where)
            counted = session.scalar(
                select(func.count()).select_from(query.limit(cap + 1).subquery())
            )
            counted = int(counted or 0)
            return min(counted, cap), counted > cap

    def matching_ids(
        self, actor: Actor, text: str = "", status: StatusFilter = StatusFilter.ALL
    ) -> list[int]:
        """The ids of every payer :meth:`search` finds, on every page, in its order."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            payers = int(session.scalar(select(func.count()).select_from(Payer)) or 0)
            query = select(Payer.id)
            where = self._where(session, text, max(payers, 1), status)
            if where is not None:
                query = query.where(where)
            return list(session.scalars(query.order_by(Payer.sort_name, Payer.id)))

    # -- one payer ---------------------------------------------------------------------------

    def get(self, actor: Actor, payer_id: int) -> PayerDetail:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return self._detail(session, payer_id)

    def _detail(self, session: Session, payer_id: int) -> PayerDetail:
        payer = session.get(Payer, payer_id)
        if payer is None:
            raise NotFound(f"Payer {payer_id} does not exist (any more).")
        now = self.ctx.clock()
        last_email = _last_access_emails(session, [payer.id]).get(payer.id)
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


def _by_client_number(
    session: Session, key: str
) -> CompoundSelect[tuple[int]] | ColumnElement[bool] | None:
    """The payer has an association under a client whose number starts with ``key``.

    ``None`` when no client number does (most searches are names): nothing to add. For a few
    clients the payers' ids are gathered through each level's index (a ``UNION`` returned as
    such: an ``OR`` of the three levels scanned every association). For many (``c0``),
    gathering would list their invoices by the million; a per-payer ``EXISTS`` condition lets
    the page walk ``ix_payer_sort``.
    """
    clients = select(Client.id).where(prefix_range(Client.number_key, key))
    found = session.scalar(
        select(func.count()).select_from(clients.limit(BROAD_CLIENTS).subquery())
    )
    if not found:
        return None
    if found < BROAD_CLIENTS:
        matters = select(Matter.id).where(Matter.client_id.in_(clients))
        invoices = select(Invoice.id).where(Invoice.client_id.in_(clients))
        gathered = union(
            select(Association.payer_id).where(Association.client_id.in_(clients)),
            select(Association.payer_id).where(Association.matter_id.in_(matters)),
            select(Association.payer_id).where(Association.invoice_id.in_(invoices)),
        )
        return gathered  # type: ignore[return-value]
    mine = Association.payer_id == Payer.id
    is_postgresql = session.get_bind().dialect.name == "postgresql"

    def per_payer(query: Select[Any]) -> ColumnElement[bool]:
        # A "hashed SubPlan" on PostgreSQL listed every matching association first (90,000
        # invoice rows of one payer: 230 ms of 'c00').
        return probe(query, is_postgresql)

    return or_(
        # Each level joins from the payer's few rows to the client and tests its number,
        # rather than listing the matching clients for every payer.
        per_payer(
            select(Association.id)
            .join(Client, Client.id == Association.client_id)
            .where(mine, Association.client_id.is_not(None), prefix_range(Client.number_key, key))
        ),
        per_payer(
            select(Association.id)
            .join(Matter, Matter.id == Association.matter_id)
            # not-null: a payer's many invoice-level rows are skipped in the index, not read
            .where(mine, Association.matter_id.is_not(None), Matter.client_id.in_(clients))
        ),
        per_payer(
            select(Association.id)
            .join(Invoice, Invoice.id == Association.invoice_id)
            .where(mine, Association.invoice_id.is_not(None), Invoice.client_id.in_(clients))
        ),
    )


def _login_email(session: Session, payer: Payer) -> str | None:
    if payer.login_id is None:
        return None
    login = session.get(PortalLogin, payer.login_id)
    return login.email_key if login else None
