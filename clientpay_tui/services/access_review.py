"""The access review: who may sign in to the portal and what each payer sees, for an auditor.

Streamed a payer at a time (a server-side cursor on PostgreSQL, SQLite's stepping cursor),
read a chunk of payers at a time for the per-payer figures: 100,000 payers never sit in memory.
The login status is the payer list's
(:func:`~clientpay_tui.services.payer_search.access_status`) and the visible invoices and open
balance are the portal's and the staff preview's
(:func:`~clientpay_tui.services.visible_invoices.visible_figures_by_payer`, a chunk of payers
in one query, counted to :data:`~clientpay_tui.services.visible_invoices.FIGURES_CAP`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from clientpay_tui.db.models import Association, Payer, PortalLogin
from clientpay_tui.errors import ExportFailed
from clientpay_tui.services import audit
from clientpay_tui.services.bulk_access import PayerSelection
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.integrations import enabled_integrations
from clientpay_tui.services.payer_search import access_status, last_access_emails
from clientpay_tui.services.payer_status import StatusFilter, status_where
from clientpay_tui.services.payers import AccessStatus, PayerService
from clientpay_tui.services.visible_invoices import (
    FIGURES_CAP,
    Figures,
    shows_invoices,
    visible_figures_by_payer,
)
from clientpay_tui.text import one_line

CHUNK = 500
"""Payers read per batch of login, email, association and figures queries (and per cursor
fetch)."""
NOTHING = Figures(0, 0, False)


@dataclass(frozen=True)
class AccessReviewRow:
    payer_id: int
    name: str
    email: str | None
    login_status: AccessStatus
    invited_at: datetime | None
    accepted_at: datetime | None
    last_sign_in_at: datetime | None
    mfa: str
    """``email code``, ``exempt`` (staff let this payer skip the code) or ``off``."""
    client_associations: int
    matter_associations: int
    invoice_associations: int
    visible_invoices: int
    """Counted to :data:`FIGURES_CAP` (then ``visible_invoices_capped``)."""
    visible_invoices_capped: bool
    open_balance_cents: int | None
    """What the payer can pay now in the portal; ``None`` past the cap (not summed)."""


def mfa_label(portal_mfa: str, mfa_exempt: bool) -> str:
    """What signing in asks of this payer beyond the password."""
    if portal_mfa != "email":
        return "off"
    return "exempt" if mfa_exempt else "email code"


def _association_counts(session: Session, ids: list[int]) -> dict[int, tuple[int, int, int]]:
    def level(column: InstrumentedAttribute[int | None]) -> ColumnElement[int]:
        return func.sum(case((column.is_not(None), 1), else_=0))

    rows = session.execute(
        select(
            Association.payer_id,
            level(Association.client_id),
            level(Association.matter_id),
            level(Association.invoice_id),
        )
        .where(Association.payer_id.in_(ids))
        .group_by(Association.payer_id)
    )
    return {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in rows}


class AccessReviewService:
    def __init__(self, ctx: ServiceContext, payers: PayerService) -> None:
        self.ctx = ctx
        self.payers = payers

    def rows(
        self,
        actor: Actor,
        text: str = "",
        statuses: Collection[StatusFilter] | None = None,
        *,
        selection: PayerSelection | None = None,
    ) -> Iterator[AccessReviewRow]:
        """The payers the payer list shows for ``text`` and, if given, any of ``statuses``
        (its status filters) — or, given a ``selection``, only the selected payers — in the
        list's order (name, then id), one at a time.

        Found by the list's own condition (:meth:`PayerService._where`), not a second copy."""
        now = self.ctx.clock()
        portal_mfa = self.ctx.settings.portal_mfa
        with self.ctx.db.read() as session:
            require(session, actor, Permission.VIEW)
            integrations = enabled_integrations(session)
            any_invoices = shows_invoices(integrations)
            query = select(Payer.id, Payer.name, Payer.email, Payer.login_id, Payer.mfa_exempt)
            where = self._where(session, text, statuses, selection)
            if where is not None:
                query = query.where(where)
            query = query.order_by(Payer.sort_name, Payer.id)
            # A second session reads the figures: the first one's connection holds the cursor.
            with self.ctx.db.read() as figures_session:
                result = session.execute(query, execution_options={"yield_per": CHUNK})
                for chunk in result.partitions():
                    ids = [row.id for row in chunk]
                    login_ids = {row.login_id for row in chunk if row.login_id is not None}
                    logins = {
                        login.id: login
                        for login in figures_session.scalars(
                            select(PortalLogin).where(PortalLogin.id.in_(login_ids))
                        )
                    }
                    last_email = last_access_emails(figures_session, ids)
                    counts = _association_counts(figures_session, ids)
                    # No association sees nothing: only the others are asked, in one query.
                    seeing = [payer_id for payer_id in ids if any(counts.get(payer_id, ()))]
                    figures = (
                        visible_figures_by_payer(
                            figures_session, seeing, integrations, cap=FIGURES_CAP
                        )
                        if any_invoices
                        else {}
                    )
                    for row in chunk:
                        login = logins.get(row.login_id) if row.login_id is not None else None
                        status = access_status(login, last_email.get(row.id), now)
                        by_level = counts.get(row.id, (0, 0, 0))
                        seen = figures.get(row.id, NOTHING)
                        yield AccessReviewRow(
                            payer_id=row.id,
                            name=row.name,
                            email=row.email,
                            login_status=status,
                            invited_at=login.created_at if login else None,
                            accepted_at=login.accepted_at if login else None,
                            last_sign_in_at=login.last_sign_in_at if login else None,
                            mfa=mfa_label(portal_mfa, row.mfa_exempt),
                            client_associations=by_level[0],
                            matter_associations=by_level[1],
                            invoice_associations=by_level[2],
                            visible_invoices=seen.total,
                            visible_invoices_capped=seen.capped,
                            open_balance_cents=seen.payable_cents,
                        )
                    figures_session.expunge_all()

    def _where(
        self,
        session: Session,
        text: str,
        statuses: Collection[StatusFilter] | None,
        selection: PayerSelection | None,
    ) -> ColumnElement[bool] | None:
        """The payers to export, as a condition on ``payer`` (``None``: every payer)."""
        if selection is not None:
            if selection.matching is None:
                return Payer.id.in_(sorted(selection.payer_ids))
            text, statuses = selection.matching.text, {selection.matching.status}
            where = self._where(session, text, statuses, None)
            if not selection.excluded:
                return where
            kept = Payer.id.not_in(sorted(selection.excluded))
            return kept if where is None else and_(where, kept)
        # Every match is read: the search's gather-or-walk choice is made for all of them.
        payers = max(int(session.scalar(select(func.count()).select_from(Payer)) or 0), 1)
        wanted = set(statuses or ()) - {StatusFilter.ALL}
        if not wanted or (statuses and StatusFilter.ALL in statuses):
            return self.payers._where(session, text, payers, paged=False).condition
        if len(wanted) == 1:
            return self.payers._where(session, text, payers, wanted.pop(), paged=False).condition
        now = self.ctx.clock()
        by_status = [
            found.condition
            for status in sorted(wanted)
            if (found := status_where(session, status, now, payers, gather=True)) is not None
        ]
        by_text = self.payers._where(session, text, payers, paged=False).condition
        return or_(*by_status) if by_text is None else and_(by_text, or_(*by_status))

    def export(
        self,
        actor: Actor,
        out: TextIO,
        fmt: str = "csv",
        *,
        text: str = "",
        statuses: Collection[StatusFilter] | None = None,
        selection: PayerSelection | None = None,
        destination: str = "standard output",
    ) -> int:
        """Write the access review to ``out`` as ``csv`` or ``json``; audited. Returns the
        number of payers written."""
        from clientpay_tui.services.report_files import write_report

        count = write_report(self.rows(actor, text, statuses, selection=selection), out, fmt)
        self._audit(actor, count, fmt, text, statuses, selection, destination)
        return count

    def export_to_file(
        self,
        actor: Actor,
        path: Path,
        fmt: str = "csv",
        *,
        text: str = "",
        statuses: Collection[StatusFilter] | None = None,
        selection: PayerSelection | None = None,
    ) -> int:
        """:meth:`export` to a new file at ``path`` (its folder created); one-line errors."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as out:
                return self.export(
                    actor,
                    out,
                    fmt,
                    text=text,
                    statuses=statuses,
                    selection=selection,
                    destination=str(path),
                )
        except OSError as error:
            reason = error.strerror or str(error)
            raise ExportFailed(f"cannot write {path}: {reason}") from None

    def _audit(
        self,
        actor: Actor,
        count: int,
        fmt: str,
        text: str,
        statuses: Collection[StatusFilter] | None,
        selection: PayerSelection | None,
        destination: str,
    ) -> None:
        if selection is not None and selection.matching is None:
            scope = " selected"
        else:
            if selection is not None and selection.matching is not None:
                text, statuses = selection.matching.text, {selection.matching.status}
            scope = f" matching {one_line(repr(text), 80)}" if text else ""
            wanted = set(statuses or ()) - {StatusFilter.ALL}
            if wanted and not (statuses and StatusFilter.ALL in statuses):
                scope += " with login status " + "/".join(sorted(s.value for s in wanted))
            if selection is not None and selection.excluded:
                scope += f" but {len(selection.excluded):,} unselected"
        summary = f"Access review exported ({fmt}, {count:,} payers{scope}) to {destination}"
        with self.ctx.db.write() as session:
            audit.record(session, self.ctx.clock(), actor, "report.access", summary)
