"""CSV imports of payers and invoices.

Every bad row is reported with its line number. By default one bad row refuses the whole file
(nothing is written); with ``keep_good_rows`` the good rows are imported and the bad ones listed.
Either way the report says which happened.

The whole file is checked first, streaming (its good rows wait in a temporary file), and only
then written, in batches of :data:`BATCH_ROWS` rows, each its own short transaction: an
import of any size holds SQLite's write lock for a fraction of a second at a time, so staff
sessions and mail senders keep working. If the database fails part-way, the batches already
written stay; importing the same file again completes it (payers already there are skipped,
invoices are updated).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Payer
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services import audit, validation
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.csv_files import BadRow, Spool, digest, read_rows
from clientpay_tui.services.invoice_import import (
    INVOICE_COLUMNS,
    InvoiceRow,
    checked_rows,
    write_invoices,
)
from clientpay_tui.text import one_line

PAYER_COLUMNS = ("name", "email")
PAYER_OPTIONAL = ("phone", "notes")
MAX_ERRORS_KEPT = 1000
BATCH_ROWS = 2000
"""Rows written per transaction."""
__all__ = ["INVOICE_COLUMNS", "ImportReport", "ImportService", "RowError"]


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    what: str
    imported: int = 0
    updated: int = 0
    already_there: int = 0
    """Payer rows whose name and email match a payer already stored (or an earlier row of the
    file): counted here, not added again, not an error."""
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    refused: bool = False
    """Bad rows and ``keep_good_rows`` off: the whole file was refused, nothing written."""

    def add_error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(line, one_line(message)))


@dataclass(frozen=True)
class PayerRow:
    name: str
    email: str | None
    email_key: str | None
    phone: str | None
    notes: str | None

    @property
    def sort_name(self) -> str:
        return validation.search_key(self.name)

    def values(self, now: datetime) -> dict[str, object]:
        return {
            "name": self.name,
            "sort_name": self.sort_name,
            "email": self.email,
            "email_key": self.email_key,
            "phone": self.phone,
            "notes": self.notes,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }


@dataclass(frozen=True)
class Repeated:
    """A payer row that repeats an earlier row's name and email."""


def _parse_payer(row: dict[str, str] | BadRow) -> PayerRow:
    if isinstance(row, BadRow):
        raise ValidationFailed(row.message)
    name = validation.payer_name(row["name"])
    email = validation.email_address(row["email"])
    return PayerRow(
        name=name,
        email=email[0] if email else None,
        email_key=email[1] if email else None,
        phone=validation.phone_number(row.get("phone")),
        notes=validation.notes_text(row.get("notes")),
    )


def _payer_rows(path: Path) -> Iterator[tuple[int, PayerRow | Repeated | str]]:
    """Every data row in order: a payer, a repeat of an earlier row, or why it is bad.
    Keeps one 16-byte key per row with an email address."""
    seen: set[bytes] = set()
    for line, row in read_rows(path, PAYER_COLUMNS, PAYER_OPTIONAL):
        try:
            payer = _parse_payer(row)
        except ValidationFailed as error:
            yield line, str(error)
            continue
        if payer.email_key is not None:
            key = digest(payer.email_key, payer.sort_name)
            if key in seen:
                yield line, Repeated()
                continue
            seen.add(key)
        yield line, payer


class ImportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _allowed(self, actor: Actor, permission: Permission) -> None:
        with self.ctx.db.read() as session:
            require(session, actor, permission)

    def payers(self, actor: Actor, path: Path, *, keep_good_rows: bool = False) -> ImportReport:
        """Add the payers of a CSV file (columns name, email, optional phone, notes).

        A row with the name and email of a payer already stored (or of an earlier row) is
        counted in :attr:`ImportReport.already_there` and not added again; rows without an
        email address are always added.
        """
        self._allowed(actor, Permission.EDIT_PAYERS)
        report = ImportReport(what="payers")
        with Spool[PayerRow](BATCH_ROWS) as spool:
            for line, row in _payer_rows(path):
                if isinstance(row, str):
                    report.add_error(line, row)
                elif isinstance(row, Repeated):
                    report.already_there += 1
                else:
                    spool.add(row)
            if report.error_count and not keep_good_rows:
                report.refused = True
                return report
            now = self.ctx.clock()
            for batch in spool.batches():
                self._write_payers(actor, batch, now, report)
        with self.ctx.db.write() as session:
            summary = f"Imported {report.imported} payers from {path.name}"
            if report.already_there:
                summary += f" ({report.already_there} already there)"
            audit.record(session, now, actor, "import.payers", summary)
        return report

    def _write_payers(
        self, actor: Actor, batch: list[PayerRow], now: datetime, report: ImportReport
    ) -> None:
        if not batch:
            return
        with self.ctx.db.write() as session:
            require(session, actor, Permission.EDIT_PAYERS)
            stored = _stored_names_and_emails(session, {row.email_key for row in batch})
            fresh = [
                row
                for row in batch
                if row.email_key is None or (row.email_key, row.sort_name) not in stored
            ]
            if fresh:
                # The table, not the mapped class: one executemany, not a statement per row.
                session.execute(
                    insert(cast(Table, Payer.__table__)), [row.values(now) for row in fresh]
                )
        report.imported += len(fresh)
        report.already_there += len(batch) - len(fresh)

    def invoices(self, actor: Actor, path: Path, *, keep_good_rows: bool = False) -> ImportReport:
        """Add or update the clients, matters and invoices of a CSV file (an invoice is
        identified by its number; one that exists under another client is a bad row)."""
        self._allowed(actor, Permission.MANAGE_INTEGRATIONS)
        report = ImportReport(what="invoices")
        with Spool[tuple[int, InvoiceRow]](BATCH_ROWS) as spool:
            for line, row in checked_rows(self.ctx.db, path):
                if isinstance(row, str):
                    report.add_error(line, row)
                else:
                    spool.add((line, row))
            if report.error_count and not keep_good_rows:
                report.refused = True
                return report
            now = self.ctx.clock()
            for batch in spool.batches():
                self._write_invoices(actor, batch, report)
        with self.ctx.db.write() as session:
            audit.record(
                session,
                now,
                actor,
                "import.invoices",
                f"Imported {report.imported}, updated {report.updated} invoices from {path.name}",
            )
        return report

    def _write_invoices(
        self, actor: Actor, batch: list[tuple[int, InvoiceRow]], report: ImportReport
    ) -> None:
        if not batch:
            return
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_INTEGRATIONS)
            added, updated, refused = write_invoices(session, batch)
        report.imported += added
        report.updated += updated
        for line, message in refused:  # moved to another client since the check
            report.add_error(line, message)


def _stored_names_and_emails(session: Session, keys: set[str | None]) -> set[tuple[str, str]]:
    wanted = {key for key in keys if key is not None}
    if not wanted:
        return set()
    found = session.execute(
        select(Payer.email_key, Payer.sort_name).where(Payer.email_key.in_(wanted))
    )
    return {(email_key, sort_name) for email_key, sort_name in found if email_key is not None}
