"""CSV imports of payers and invoices.

Every bad row is reported with its line number. By default one bad row refuses the whole file
(nothing is written); with ``keep_good_rows`` the good rows are imported and the bad ones listed.
Either way the report says which happened.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from clientpay_tui.db.models import Client, Invoice, InvoiceSource, Matter, Payer
from clientpay_tui.errors import ImportFailed, ValidationFailed
from clientpay_tui.services import audit, validation
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.text import clean_text, one_line

PAYER_COLUMNS = ("name", "email")
PAYER_OPTIONAL = ("phone", "notes")
INVOICE_COLUMNS = (
    "client_number",
    "client_name",
    "matter_number",
    "matter_description",
    "invoice_number",
    "invoice_date",
    "amount",
    "balance",
    "source",
)
MAX_ERRORS_KEPT = 1000


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
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    refused: bool = False

    def summary(self) -> str:
        """One line that says what was kept."""
        if self.refused:
            return (
                f"refused the whole file: {self.error_count} bad row(s), nothing imported "
                "(use --keep-good-rows to import the good rows)"
            )
        text = f"imported {self.imported} {self.what}"
        if self.updated:
            text += f", updated {self.updated}"
        if self.error_count:
            text += f"; skipped {self.error_count} bad row(s)"
        return text

    def add_error(self, line: int, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(RowError(line, one_line(message)))


def _rows(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line number, row)`` pairs; refuse a file that is missing or malformed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} is a directory, not a CSV file") from None
    except OSError as error:
        raise ImportFailed(f"cannot read {path}: {error.strerror}") from None
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFailed(f"{path}: line {line} is not UTF-8 text") from None
    reader = csv.reader(io.StringIO(content, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ImportFailed(f"{path}: line 1: {error}") from None
    if not header:
        raise ImportFailed(f"{path} is empty: expected a header line with {', '.join(required)}")
    columns = [clean_text(name).lower() for name in header]
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportFailed(f"{path}: line 1: missing column(s) {', '.join(missing)}")
    unknown = [name for name in columns if name not in required + optional]
    if unknown:
        raise ImportFailed(
            f"{path}: line 1: unknown column(s) {', '.join(one_line(u, 40) for u in unknown)}"
        )
    line = reader.line_num + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed(f"{path}: line {reader.line_num}: {error}") from None
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            yield start, {"__error__": f"expected {len(columns)} fields, found {len(record)}"}
            continue
        yield start, dict(zip(columns, record, strict=True))


def _money(value: str, name: str) -> int:
    text = value.strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{name} {value!r} is not an amount like 1234.50") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{name} {value!r} must have at most two decimals")
    if amount < 0:
        raise ValidationFailed(f"{name} {value!r} must not be negative")
    cents = int(amount * 100)
    if cents > 10**13:
        raise ValidationFailed(f"{name} {value!r} is too large")
    return cents


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(f"invoice_date {value!r} is not a date like 2026-01-31") from None


def _required(row: dict[str, str], name: str, limit: int) -> str:
    value = clean_text(row.get(name, ""))
    if not value:
        raise ValidationFailed(f"{name} is empty")
    if len(value) > limit:
        raise ValidationFailed(f"{name} is longer than {limit} characters")
    return value


class ImportService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def payers(self, actor: Actor, path: Path, *, keep_good_rows: bool = False) -> ImportReport:
        report = ImportReport(what="payers")
        now = self.ctx.clock()
        parsed: list[Payer] = []
        for line, row in _rows(path, PAYER_COLUMNS, PAYER_OPTIONAL):
            try:
                if "__error__" in row:
                    raise ValidationFailed(row["__error__"])
                name = validation.payer_name(row["name"])
                email = validation.email_address(row["email"])
                parsed.append(
                    Payer(
                        name=name,
                        sort_name=validation.search_key(name),
                        email=email[0] if email else None,
                        email_key=email[1] if email else None,
                        phone=validation.phone_number(row.get("phone")),
                        notes=validation.notes_text(row.get("notes")),
                        created_at=now,
                        updated_at=now,
                    )
                )
            except ValidationFailed as error:
                report.add_error(line, str(error))
        if report.error_count and not keep_good_rows:
            report.refused = True
            return report
        with self.ctx.db.write() as session:
            require(session, actor, Permission.EDIT_PAYERS)
            session.add_all(parsed)
            report.imported = len(parsed)
            audit.record(
                session,
                now,
                actor,
                "import.payers",
                f"Imported {len(parsed)} payers from {path.name}",
            )
        return report

    def invoices(self, actor: Actor, path: Path, *, keep_good_rows: bool = False) -> ImportReport:
        report = ImportReport(what="invoices")
        now = self.ctx.clock()
        with self.ctx.db.write() as session:
            require(session, actor, Permission.MANAGE_INTEGRATIONS)
            loader = _InvoiceLoader(session)
            for line, row in _rows(path, INVOICE_COLUMNS, ()):
                try:
                    if "__error__" in row:
                        raise ValidationFailed(row["__error__"])
                    if loader.load(row):
                        report.imported += 1
                    else:
                        report.updated += 1
                except ValidationFailed as error:
                    report.add_error(line, str(error))
            if report.error_count and not keep_good_rows:
                report.refused = True
                report.imported = report.updated = 0
                session.rollback()
                return report
            audit.record(
                session,
                now,
                actor,
                "import.invoices",
                f"Imported {report.imported}, updated {report.updated} invoices from {path.name}",
            )
        return report


class _InvoiceLoader:
    """Upserts clients, matters and invoices row by row, caching what it has seen."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.clients: dict[str, Client] = {}
        self.matters: dict[tuple[int, str], Matter] = {}

    def _client(self, number: str, name: str) -> Client:
        key = validation.search_key(number)
        client = self.clients.get(key)
        if client is None:
            client = self.session.scalars(select(Client).where(Client.number_key == key)).first()
            if client is None:
                client = Client(number=number, number_key=key, name=name, name_key="")
                self.session.add(client)
            self.clients[key] = client
        if client.name != name or not client.name_key:
            client.name, client.name_key = name, validation.search_key(name)
        return client

    def _matter(self, client: Client, number: str, description: str) -> Matter:
        self.session.flush()
        key = (client.id, validation.search_key(number))
        matter = self.matters.get(key)
        if matter is None:
            matter = self.session.scalars(
                select(Matter).where(Matter.client_id == client.id, Matter.number_key == key[1])
            ).first()
            if matter is None:
                matter = Matter(
                    client_id=client.id,
                    number=number,
                    number_key=key[1],
                    description=description,
                    description_key="",
                )
                self.session.add(matter)
            self.matters[key] = matter
        if (description and matter.description != description) or not matter.description_key:
            matter.description = description or matter.description
            matter.description_key = validation.search_key(matter.description)
        return matter

    def load(self, row: dict[str, str]) -> bool:
        """Add or update one invoice. Returns True when it is new."""
        client_number = _required(row, "client_number", 40)
        client_name = _required(row, "client_name", 200)
        matter_number = clean_text(row["matter_number"])
        description = clean_text(row["matter_description"])
        if len(matter_number) > 40 or len(description) > 500:
            raise ValidationFailed("matter_number or matter_description is too long")
        number = _required(row, "invoice_number", 40)
        invoice_date = _date(row["invoice_date"])
        amount = _money(row["amount"], "amount")
        balance = _money(row["balance"], "balance")
        if balance > amount:
            raise ValidationFailed(f"balance {row['balance']} is more than amount {row['amount']}")
        try:
            source = InvoiceSource(row["source"].strip().lower())
        except ValueError:
            raise ValidationFailed(
                f"source {row['source']!r} must be internal, connect or external"
            ) from None
        try:
            return self._upsert(
                client_number,
                client_name,
                matter_number,
                description,
                number,
                invoice_date,
                amount,
                balance,
                source,
            )
        except ValidationFailed:
            # The savepoint was rolled back: cached rows may be gone with it.
            self.clients.clear()
            self.matters.clear()
            raise

    def _upsert(
        self,
        client_number: str,
        client_name: str,
        matter_number: str,
        description: str,
        number: str,
        invoice_date: date,
        amount: int,
        balance: int,
        source: InvoiceSource,
    ) -> bool:
        with self.session.begin_nested():
            client = self._client(client_number, client_name)
            matter = self._matter(client, matter_number, description) if matter_number else None
            self.session.flush()
            key = validation.search_key(number)
            invoice = self.session.scalars(select(Invoice).where(Invoice.number_key == key)).first()
            new = invoice is None
            if invoice is None:
                invoice = Invoice(number=number, number_key=key)
                self.session.add(invoice)
            elif invoice.client_id != client.id:
                raise ValidationFailed(f"invoice {number} already exists under another client")
            invoice.client_id = client.id
            invoice.matter_id = matter.id if matter else None
            invoice.invoice_date = invoice_date
            invoice.amount_cents = amount
            invoice.balance_cents = balance
            invoice.source = source
            self.session.flush()
        return new
