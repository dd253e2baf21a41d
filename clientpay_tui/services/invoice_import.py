"""The rows of an invoice import: each checked on its own, against the rest of the file and
against the database, then written in batches (clients, matters and invoices upserted)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Client, Invoice, InvoiceSource, Matter
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services import validation
from clientpay_tui.services.csv_files import BadRow, digest, iso_date, money, read_rows, required
from clientpay_tui.text import clean_text, one_line

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
CHECK_BATCH = 500
"""Rows checked against the database with one query."""


@dataclass(frozen=True)
class InvoiceRow:
    client_number: str
    client_name: str
    matter_number: str
    description: str
    number: str
    invoice_date: date
    amount: int
    balance: int
    source: InvoiceSource

    @property
    def client_key(self) -> str:
        return validation.number_key(self.client_number)

    @property
    def matter_key(self) -> str:
        return validation.number_key(self.matter_number)

    @property
    def number_key(self) -> str:
        return validation.number_key(self.number)


def parse_invoice(row: dict[str, str] | BadRow) -> InvoiceRow:
    """One row's cells, checked on their own (:class:`ValidationFailed` says what is wrong)."""
    if isinstance(row, BadRow):
        raise ValidationFailed(row.message)
    client_number = required(row, "client_number", 40)
    client_name = required(row, "client_name", 200)
    matter_number = clean_text(row["matter_number"])
    description = clean_text(row["matter_description"])
    if len(matter_number) > 40 or len(description) > 500:
        raise ValidationFailed("matter_number or matter_description is too long")
    number = required(row, "invoice_number", 40)
    invoice_date = iso_date(row["invoice_date"], "invoice_date")
    amount = money(row["amount"], "amount")
    balance = money(row["balance"], "balance")
    if balance > amount:
        raise ValidationFailed(
            f"balance {one_line(row['balance'], 40)} "
            f"is more than amount {one_line(row['amount'], 40)}"
        )
    try:
        source = InvoiceSource(row["source"].strip().lower())
    except ValueError:
        raise ValidationFailed(
            f"source {one_line(row['source'], 40)!r} must be internal, connect or external"
        ) from None
    return InvoiceRow(
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


def checked_rows(db: Database, path: Path) -> Iterator[tuple[int, InvoiceRow | str]]:
    """Every data row of the file in order: an :class:`InvoiceRow` or why it is bad.

    Streams the file; what it keeps is one small key per invoice number seen (an invoice
    repeated within the file is a bad row naming the line it was first on) and a batch of rows
    waiting for one query that checks them against the database.
    """
    seen: dict[bytes, int] = {}
    pending: list[tuple[int, InvoiceRow | str]] = []
    for line, row in read_rows(path, INVOICE_COLUMNS, ()):
        result: InvoiceRow | str
        try:
            result = parse_invoice(row)
        except ValidationFailed as error:
            result = str(error)
        if isinstance(result, InvoiceRow):
            first = seen.setdefault(digest(result.number_key), line)
            if first != line:
                result = f"invoice {one_line(result.number, 40)} is also on line {first}"
        pending.append((line, result))
        if len(pending) >= CHECK_BATCH:
            yield from _against_database(db, pending)
            pending = []
    yield from _against_database(db, pending)


def _against_database(
    db: Database, rows: list[tuple[int, InvoiceRow | str]]
) -> Iterator[tuple[int, InvoiceRow | str]]:
    wanted = {row.number_key for _line, row in rows if isinstance(row, InvoiceRow)}
    owners: dict[str, str] = {}
    if wanted:
        with db.read() as session:
            owners = dict(
                session.execute(
                    select(Invoice.number_key, Client.number_key)
                    .join(Client, Invoice.client_id == Client.id)
                    .where(Invoice.number_key.in_(wanted))
                ).all()
            )
    for line, row in rows:
        if (
            isinstance(row, InvoiceRow)
            and owners.get(row.number_key, row.client_key) != row.client_key
        ):
            yield line, _elsewhere(row)
        else:
            yield line, row


def _elsewhere(row: InvoiceRow) -> str:
    return f"invoice {one_line(row.number, 40)} already exists under another client"


def write_invoices(
    session: Session, rows: Sequence[tuple[int, InvoiceRow]]
) -> tuple[int, int, list[tuple[int, str]]]:
    """Upsert a batch of checked rows. Returns (added, updated, rows refused): an invoice that
    moved to another client since the check is refused, never moved."""
    clients = _clients(session, [row for _line, row in rows])
    matters = _matters(session, clients, [row for _line, row in rows])
    keys = {row.number_key for _line, row in rows}
    invoices = {
        invoice.number_key: invoice
        for invoice in session.scalars(select(Invoice).where(Invoice.number_key.in_(keys)))
    }
    added = updated = 0
    refused: list[tuple[int, str]] = []
    for line, row in rows:
        client = clients[row.client_key]
        invoice = invoices.get(row.number_key)
        if invoice is None:
            invoice = Invoice(number=row.number, number_key=row.number_key)
            session.add(invoice)
            invoices[row.number_key] = invoice
            added += 1
        elif invoice.client_id != client.id:
            refused.append((line, _elsewhere(row)))
            continue
        else:
            updated += 1
        matter = matters.get((client.id, row.matter_key)) if row.matter_number else None
        invoice.client_id = client.id
        invoice.matter_id = matter.id if matter else None
        invoice.invoice_date = row.invoice_date
        invoice.amount_cents = row.amount
        invoice.balance_cents = row.balance
        invoice.source = row.source
    session.flush()
    return added, updated, refused


def _clients(session: Session, rows: Sequence[InvoiceRow]) -> dict[str, Client]:
    keys = {row.client_key for row in rows}
    clients = {
        client.number_key: client
        for client in session.scalars(select(Client).where(Client.number_key.in_(keys)))
    }
    for row in rows:  # in file order: the last name given for a client wins
        client = clients.get(row.client_key)
        if client is None:
            client = Client(number=row.client_number, number_key=row.client_key, name="")
            session.add(client)
            clients[row.client_key] = client
        if client.name != row.client_name or not client.name_key:
            client.name = row.client_name
            client.name_key = validation.search_key(row.client_name)
    session.flush()
    return clients


def _matters(
    session: Session, clients: dict[str, Client], rows: Sequence[InvoiceRow]
) -> dict[tuple[int, str], Matter]:
    keys = {(clients[row.client_key].id, row.matter_key) for row in rows if row.matter_number}
    if not keys:
        return {}
    matters = {
        (matter.client_id, matter.number_key): matter
        for matter in session.scalars(
            select(Matter).where(tuple_(Matter.client_id, Matter.number_key).in_(keys))
        )
    }
    for row in rows:
        if not row.matter_number:
            continue
        client = clients[row.client_key]
        matter = matters.get((client.id, row.matter_key))
        if matter is None:
            matter = Matter(
                client_id=client.id,
                number=row.matter_number,
                number_key=row.matter_key,
                description=row.description,
                description_key="",
            )
            session.add(matter)
            matters[(client.id, row.matter_key)] = matter
        if (
            row.description and matter.description != row.description
        ) or not matter.description_key:
            matter.description = row.description or matter.description
            matter.description_key = validation.search_key(matter.description)
    session.flush()
    return matters
