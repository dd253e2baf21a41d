"""Synthetic data at scale, for benchmarks and trying the app with realistic volumes.

Rows go in through the driver's fastest path (``executemany`` on SQLite, ``COPY`` on
PostgreSQL) in one transaction, numbered after whatever the database already holds, and the
planner statistics are refreshed afterwards so that searches use their indexes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from clientpay_tui.db.engine import Database, translate_errors
from clientpay_tui.seeding.names import FIRST, LAST, MATTERS, SUFFIX, WORDS
from clientpay_tui.services import audit
from clientpay_tui.services.context import Actor, Permission, ServiceContext, require
from clientpay_tui.services.validation import search_key

SOURCES = ("connect",) * 12 + ("internal",) * 5 + ("external",) * 3
BATCH = 20_000


@dataclass(frozen=True)
class SeedReport:
    payers: int
    clients: int
    matters: int
    invoices: int
    associations: int
    seconds: float

    def summary(self) -> str:
        return (
            f"added {self.payers:,} payers, {self.clients:,} clients, {self.matters:,} matters, "
            f"{self.invoices:,} invoices and {self.associations:,} associations "
            f"in {self.seconds:.1f} s"
        )


class _Writer:
    """Bulk inserts through the DB-API cursor, formatted as SQLAlchemy would store them."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.sqlite = connection.dialect.name == "sqlite"
        self.cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

    def next_id(self, table: str) -> int:
        result = self.connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}")
        return int(result.scalar_one()) + 1

    def value(self, value: Any) -> Any:
        if self.sqlite:
            if isinstance(value, datetime):
                return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            if isinstance(value, date):
                return value.isoformat()
        return value

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows whose values are already in the backend's form (see :meth:`value`)."""
        count = 0
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
            with self._indexes_rebuilt(table):
                for batch in _batched(rows, BATCH):
                    self.cursor.executemany(sql, batch)
                    count += len(batch)
            return count
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    @contextmanager
    def _indexes_rebuilt(self, table: str) -> Iterator[None]:
        """Drop the table's secondary indexes for the load and build them again after:
        sorting once is far cheaper than a million random B-tree inserts."""
        indexes = [
            (name, sql)
            for name, sql in self.connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            )
        ]
        for name, _sql in indexes:
            self.connection.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _name, sql in indexes:
            self.connection.exec_driver_sql(sql)

    def fix_sequences(self, tables: Sequence[str]) -> None:
        if self.sqlite:
            return
        for table in tables:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )


def _batched(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    batch: list[Sequence[Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(
    ctx: ServiceContext, actor: Actor, *, payers: int, invoices: int, seed: int = 1
) -> SeedReport:
    """Add ``payers`` payers and ``invoices`` invoices (with clients and matters to hold them)."""
    if payers < 0 or invoices < 0:
        raise ValueError("counts must not be negative")
    started = time.perf_counter()
    rng = random.Random(seed)
    now = ctx.clock()
    db: Database = ctx.db
    n_clients = max(1, invoices // 50) if invoices else (max(1, payers // 10) if payers else 0)
    n_matters = max(n_clients, invoices // 10) if invoices else n_clients
    with translate_errors(db), db.engine.begin() as connection:
        with Session(bind=connection) as session:
            require(session, actor, Permission.MANAGE_INTEGRATIONS)
        out = _Writer(connection)
        if out.sqlite:
            # A large page cache keeps the indexes' random inserts in memory (the default is
            # 2 MB); it lasts for this connection only.
            connection.exec_driver_sql("PRAGMA cache_size=-262144")
        first_client = out.next_id("client")
        first_matter = out.next_id("matter")
        first_invoice = out.next_id("invoice")
        first_payer = out.next_id("payer")
        first_assoc = out.next_id("association")

        def clients() -> Iterator[tuple[Any, ...]]:
            for i in range(first_client, first_client + n_clients):
                name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIX)}"
                number = f"C{i:06d}"
                yield (i, number, number.casefold(), name, search_key(name))

        out.insert("client", ("id", "number", "number_key", "name", "name_key"), clients())

        matter_client: list[int] = []

        def matters() -> Iterator[tuple[Any, ...]]:
            for k in range(n_matters):
                client = first_client + (k % n_clients)
                matter_client.append(client)
                number = f"C{client:06d}-{k // n_clients + 1:03d}"
                text = f"{rng.choice(MATTERS)} {rng.choice(WORDS)}"
                yield (first_matter + k, client, number, number.casefold(), text, search_key(text))

        out.insert(
            "matter",
            ("id", "client_id", "number", "number_key", "description", "description_key"),
            matters(),
        )

        today = now.date()
        dates = [out.value(today - timedelta(days=day)) for day in range(3 * 365)]
        stamp = out.value(now)

        def invoice_rows() -> Iterator[tuple[Any, ...]]:
            for k in range(invoices):
                matter_index = rng.randrange(n_matters)
                number = f"INV-{first_invoice + k:08d}"
                amount = rng.randrange(5_000, 2_000_000)
                balance = rng.randrange(0, amount + 1) if rng.random() < 0.4 else 0
                yield (
                    first_invoice + k,
                    matter_client[matter_index],
                    first_matter + matter_index,
                    number,
                    number.casefold(),
                    rng.choice(dates),
                    amount,
                    balance,
                    rng.choice(SOURCES),
                )

        out.insert(
            "invoice",
            (
                "id",
                "client_id",
                "matter_id",
                "number",
                "number_key",
                "invoice_date",
                "amount_cents",
                "balance_cents",
                "source",
            ),
            invoice_rows(),
        )

        def payer_rows() -> Iterator[tuple[Any, ...]]:
            for i in range(first_payer, first_payer + payers):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                name = f"{first} {last}"
                email = f"{first}.{last}.{i}@example.com".lower().replace("'", "")
                yield (i, name, search_key(name), email, email, stamp, stamp, 1)

        out.insert(
            "payer",
            (
                "id",
                "name",
                "sort_name",
                "email",
                "email_key",
                "created_at",
                "updated_at",
                "version",
            ),
            payer_rows(),
        )

        associated = 0
        if n_clients:

            def association_rows() -> Iterator[tuple[Any, ...]]:
                nonlocal associated
                for i in range(payers):
                    if i % 3:
                        continue
                    client = first_client + rng.randrange(n_clients)
                    yield (first_assoc + associated, first_payer + i, client, "seed", stamp)
                    associated += 1

            out.insert(
                "association",
                ("id", "payer_id", "client_id", "created_by", "created_at"),
                association_rows(),
            )
        out.fix_sequences(("client", "matter", "invoice", "payer", "association"))
        with Session(bind=connection) as session:
            audit.record(
                session,
                now,
                actor,
                "seed",
                f"Generated {payers} payers and {invoices} invoices (seed {seed})",
            )
            session.flush()
    with translate_errors(db), db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Sampled statistics: as good for the planner, seconds faster on a million rows.
            connection.exec_driver_sql("PRAGMA analysis_limit=2000")
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    return SeedReport(
        payers=payers,
        clients=n_clients,
        matters=n_matters,
        invoices=invoices,
        associations=associated,
        seconds=time.perf_counter() - started,
    )
