"""Associations: what a payer sees in the portal (a whole client, a matter, or one invoice).

A client or matter association also covers invoices added to it later. Creating associations
from a selection is one ``INSERT … SELECT`` per level in one transaction, so selecting every
one of a million matching invoices costs one statement, not a million.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal, not_, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import (
    Association,
    Client,
    IntegrationName,
    Invoice,
    Matter,
    Payer,
)
from clientpay_tui.db.types import UTCDateTime
from clientpay_tui.errors import AccessStateError, NotFound, ValidationFailed
from clientpay_tui.services import audit
from clientpay_tui.services.candidate_plans import candidate_conditions, driving_lookup
from clientpay_tui.services.candidates import (
    CandidateFilter,
    CandidateRow,
    CandidateSort,
    candidate_count,
    candidate_page,
)
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.invoice_visibility import covered_by

_CHUNK = 5000
DEFAULT_SORT = CandidateSort()


class Level(enum.StrEnum):
    INVOICE = "invoice"
    MATTER = "matter"
    CLIENT = "client"


@dataclass(frozen=True)
class Selection:
    """Rows picked on the add screen: explicit ids, or everything matching a filter."""

    invoice_ids: frozenset[int] = field(default_factory=frozenset)
    matching: CandidateFilter | None = None
    """Select-all: every invoice matching this filter …"""
    excluded: frozenset[int] = field(default_factory=frozenset)
    """… except these, unselected afterwards."""

    @property
    def is_empty(self) -> bool:
        return self.matching is None and not self.invoice_ids


@dataclass(frozen=True)
class CreateResult:
    level: Level
    created: int
    skipped: int
    """Targets already covered by an association (or, for matters, invoices with no matter)."""

    def message(self) -> str:
        noun = f"{self.level.value} association"
        made = f"Created {self.created} {noun}{'' if self.created == 1 else 's'}"
        return made + (f"; skipped {self.skipped} already covered." if self.skipped else ".")


@dataclass(frozen=True)
class AssociationRow:
    id: int
    level: Level
    client_number: str
    client_name: str
    matter_number: str | None
    matter_description: str | None
    invoice_number: str | None
    invoice_count: int
    open_balance_cents: int
    created_by: str
    created_at: datetime

    @property
    def target(self) -> str:
        if self.level == Level.INVOICE:
            return f"Invoice {self.invoice_number}"
        if self.level == Level.MATTER:
            return f"Matter {self.matter_number} {self.matter_description or ''}".rstrip()
        return f"Client {self.client_number} {self.client_name}"


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


class AssociationService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _require_connect(self, session: Session) -> None:
        if IntegrationName.CONNECT not in enabled_integrations(session):
            raise AccessStateError("Associations need the Connect integration to be enabled.")

    # -- the add screen ----------------------------------------------------------------------

    def candidates(
        self,
        actor: Actor,
        where: CandidateFilter,
        sort: CandidateSort = DEFAULT_SORT,
        offset: int = 0,
        limit: int = 50,
        payer_id: int | None = None,
    ) -> list[CandidateRow]:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return candidate_page(session, where, sort, offset, limit, payer_id)

    def count_candidates(
        self, actor: Actor, where: CandidateFilter, cap: int = 10_000
    ) -> tuple[int, bool]:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return candidate_count(session, where, cap)

    def create(
        self, actor: Actor, payer_id: int, level: Level, selection: Selection
    ) -> CreateResult:
        """Associate the selected invoices (or their matters or clients) with the payer.

        Targets already covered are skipped, never duplicated.
        """
        if selection.is_empty:
            raise ValidationFailed("Select at least one invoice first.")
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_ASSOCIATIONS)
            self._require_connect(session)
            payer = session.get(Payer, payer_id)
            if payer is None:
                raise NotFound(f"Payer {payer_id} does not exist (any more).")
            created = selected = 0
            for condition in self._selected(session, selection):
                made, wanted = self._insert(session, actor, payer_id, level, condition, now)
                created += made
                selected += wanted
            result = CreateResult(level=level, created=created, skipped=selected - created)
            audit.record(
                session,
                now,
                actor,
                "association.create",
                f"{result.message()} For {payer.name}.",
                payer_id,
            )
            return result

    @staticmethod
    def _selected(session: Session, selection: Selection) -> Iterator[ColumnElement[bool]]:
        if selection.matching is not None:
            dialect = session.get_bind().dialect.name
            driver = driving_lookup(session, selection.matching)
            conditions = candidate_conditions(dialect, selection.matching, driver=driver)
            if selection.excluded:
                conditions.append(Invoice.id.not_in(sorted(selection.excluded)))
            yield and_(True, *conditions)
        else:
            for chunk in _chunks(sorted(selection.invoice_ids)):
                yield Invoice.id.in_(chunk)

    @staticmethod
    def _insert(
        session: Session,
        actor: Actor,
        payer_id: int,
        level: Level,
        condition: ColumnElement[bool],
        now: datetime,
    ) -> tuple[int, int]:
        """Insert the level's targets for invoices matching ``condition``.

        Returns ``(created, selected targets)``; invoices without a matter count as selected
        but never created at the matter level.
        """
        mine = Association.payer_id == payer_id
        matters_taken = select(Association.matter_id).where(
            mine, Association.matter_id.is_not(None)
        )
        clients_taken = select(Association.client_id).where(
            mine, Association.client_id.is_not(None)
        )
        extra = 0
        targets: Select[Any]
        new: Select[Any]
        if level == Level.INVOICE:
            column = Association.invoice_id
            targets = select(Invoice.id).where(condition)
            new = targets.where(not_(covered_by(payer_id)))
        elif level == Level.MATTER:
            column = Association.matter_id
            no_matter = select(Invoice.id).where(condition, Invoice.matter_id.is_(None))
            extra = int(session.scalar(select(func.count()).select_from(no_matter.subquery())) or 0)
            targets = (
                select(Invoice.matter_id)
                .where(condition, Invoice.matter_id.is_not(None))
                .distinct()
            )
            new = targets.where(
                Invoice.matter_id.not_in(matters_taken), Invoice.client_id.not_in(clients_taken)
            )
        else:
            column = Association.client_id
            targets = select(Invoice.client_id).where(condition).distinct()
            new = targets.where(Invoice.client_id.not_in(clients_taken))
        wanted = int(session.scalar(select(func.count()).select_from(targets.subquery())) or 0)
        rows = new.subquery()
        statement = insert(Association).from_select(
            ["payer_id", column.key, "created_by", "created_at"],
            select(
                literal(payer_id),
                rows.c[0],
                literal(actor.username),
                literal(now, UTCDateTime()),
            ),
        )
        # SQLAlchemy keeps the rowcount of UPDATE/DELETE only; psycopg reports -1 for an
        # INSERT … SELECT unless asked to preserve it.
        result = session.execute(statement, execution_options={"preserve_rowcount": True})
        created = int(result.rowcount)  # type: ignore[attr-defined]
        return created, wanted + extra

    # -- the Associations tab ----------------------------------------------------------------

    def for_payer(
        self, actor: Actor, payer_id: int, offset: int = 0, limit: int | None = None
    ) -> list[AssociationRow]:
        """The payer's associations and what each covers, newest first: all of them, or the
        page ``offset`` to ``offset + limit`` (the tab reads a page at a time: a payer may
        hold tens of thousands)."""
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            if limit is None:
                return _association_rows(session, payer_id)
            page = list(
                session.scalars(
                    select(Association.id)
                    .where(Association.payer_id == payer_id)
                    .order_by(Association.id.desc())
                    .offset(offset)
                    .limit(limit)
                )
            )
            return _association_rows(session, payer_id, page) if page else []

    def count_for_payer(self, actor: Actor, payer_id: int) -> int:
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Association)
                    .where(Association.payer_id == payer_id)
                )
                or 0
            )

    def remove(self, actor: Actor, payer_id: int, association_id: int) -> str:
        """Remove one association; returns what it covered, for the confirmation toast."""
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_ASSOCIATIONS)
            rows = _association_rows(session, payer_id, [association_id])
            if not rows:
                raise NotFound("That association no longer exists.")
            row = rows[0]
            assoc = session.get(Association, association_id)
            if assoc is None or assoc.payer_id != payer_id:
                raise NotFound("That association no longer exists.")
            payer = session.get(Payer, payer_id)
            session.delete(assoc)
            audit.record(
                session,
                now,
                actor,
                "association.remove",
                f"Removed {row.target} from {payer.name if payer else payer_id}",
                payer_id,
            )
        return row.target


def _association_rows(
    session: Session, payer_id: int, association_ids: Sequence[int] | None = None
) -> list[AssociationRow]:
    """Rows for the Associations tab, newest first: one query per level, each joined on its
    own target; ``association_ids`` limits them to a page (a short list).

    Joining all levels at once needed ``coalesce()`` join keys that no index serves (20 s at
    90,000 associations); coverage is grouped through a join, not an ``IN`` list of ids, which
    SQLite caps at 32,766 parameters.
    """
    mine = [Association.payer_id == payer_id]
    if association_ids is not None:
        mine.append(Association.id.in_(association_ids))
    rows: list[AssociationRow] = []

    def add(level: Level, record: Any, count: int, balance: int) -> None:
        rows.append(
            AssociationRow(
                id=record.id,
                level=level,
                client_number=record.client_number,
                client_name=record.client_name,
                matter_number=getattr(record, "matter_number", None),
                matter_description=getattr(record, "matter_description", None),
                invoice_number=getattr(record, "invoice_number", None),
                invoice_count=count,
                open_balance_cents=balance,
                created_by=record.created_by,
                created_at=record.created_at,
            )
        )

    base = (Association.id, Association.created_by, Association.created_at)
    client_cols = (Client.number.label("client_number"), Client.name.label("client_name"))
    matter_cols = (
        Matter.number.label("matter_number"),
        Matter.description.label("matter_description"),
    )
    for record in session.execute(
        select(*base, *client_cols, *matter_cols, Invoice.number.label("invoice_number"))
        .add_columns(Invoice.balance_cents)
        .join(Invoice, Invoice.id == Association.invoice_id)
        .join(Client, Client.id == Invoice.client_id)
        .outerjoin(Matter, Matter.id == Invoice.matter_id)
        .where(*mine)
    ):
        add(Level.INVOICE, record, 1, record.balance_cents)

    by_matter = _coverage(session, mine, Association.matter_id, Invoice.matter_id)
    for record in session.execute(
        select(*base, Association.matter_id, *client_cols, *matter_cols)
        .join(Matter, Matter.id == Association.matter_id)
        .join(Client, Client.id == Matter.client_id)
        .where(*mine)
    ):
        add(Level.MATTER, record, *by_matter.get(record.matter_id, (0, 0)))

    by_client = _coverage(session, mine, Association.client_id, Invoice.client_id)
    for record in session.execute(
        select(*base, Association.client_id, *client_cols)
        .join(Client, Client.id == Association.client_id)
        .where(*mine)
    ):
        add(Level.CLIENT, record, *by_client.get(record.client_id, (0, 0)))

    rows.sort(key=lambda row: row.id, reverse=True)
    return rows


def _coverage(
    session: Session, mine: list[ColumnElement[bool]], target: Any, invoice_key: Any
) -> dict[int, tuple[int, int]]:
    """``{target id: (invoice count, open balance)}`` for the payer's associations of a level."""
    grouped = session.execute(
        select(target, func.count(Invoice.id), func.coalesce(func.sum(Invoice.balance_cents), 0))
        .join(Invoice, invoice_key == target)
        .where(*mine)
        .group_by(target)
    )
    return {key: (int(count), int(balance)) for key, count, balance in grouped}
