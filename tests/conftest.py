"""Shared fixtures: a fresh database per test on SQLite and (when configured) PostgreSQL,
cheap password hashing, a controllable clock, and services wired to them."""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import pytest
from argon2 import PasswordHasher
from sqlalchemy import make_url, text

from clientpay_tui.config import Settings, load_settings
from clientpay_tui.db import migrations, schema
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Base, Client, Invoice, InvoiceSource, Matter, Role
from clientpay_tui.services import passwords
from clientpay_tui.services.context import Actor, command_line_actor
from clientpay_tui.services.facade import Services
from tests.waiting import until_sync

PG_ENV = "CLIENTPAY_TEST_DATABASE_URL"

# CI explores the same examples on every run, so a red build always reproduces; developers'
# runs keep exploring new ones (and hypothesis's database replays what failed before).
# No deadline there: CI runs tests in parallel workers, so one example's time says little.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("CI") and not os.environ.get(PG_ENV):
        raise pytest.UsageError(f"{PG_ENV} must be set in CI so that PostgreSQL tests run")


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2 at production cost takes ~150 ms and 64 MiB per hash; tests need not."""
    previous = passwords.use_hasher(CHEAP_HASHER)
    yield
    passwords.use_hasher(previous)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config file, data directory or CLIENTPAY_* variables."""
    for name in list(os.environ):
        if name.startswith("CLIENTPAY_") and name != PG_ENV:
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # A UTF-8 locale, as a staff terminal has: under another the app warns in a toast
    # (tests/tui/test_terminal_fit.py tries that on purpose).
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_CTYPE", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    # A 256-colour terminal, whatever the shell running pytest has: with TERM=xterm (16
    # colours) the app restyles placeholders and focus, and the snapshots would differ.
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("COLORTERM", raising=False)


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating takes longer than copying)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    schema.upgrade(db)
    db.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name("template.db-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this test session (each pytest-xdist worker is a
    session of its own), migrated to head."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url = make_url(base)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"clientpay_test_{worker}_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    test_url = url.set(database=name).render_as_string(hide_password=False)
    db = Database(test_url)
    schema.upgrade(db)
    db.dispose()
    yield test_url
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def _truncate_all(db: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated database: one per test, on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "clientpay.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    db = Database(url)
    _truncate_all(db)
    db.dispose()
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        portal_url="https://portal.test",
        firm_name="Test & Partners",
        mail_from="Test Firm <billing@firm.test>",
    )


@pytest.fixture
def services(db: Database, settings: Settings, clock: FrozenClock) -> Services:
    return Services(db, settings, clock)


@pytest.fixture
def admin(services: Services) -> Actor:
    """The command-line operator (admin, not tied to a staff row)."""
    return command_line_actor("tester")


@pytest.fixture
def make_actor(services: Services, admin: Actor):
    """Create a real staff account with a role and return it as a signed-in actor."""

    def make(role: Role, username: str | None = None) -> Actor:
        name = username or f"{role.value}-{uuid.uuid4().hex[:6]}"
        services.staff.add(admin, name, role, "correct horse battery")
        return services.staff.sign_in(name, "correct horse battery")

    return make


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with no tables at all (not migrated), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    url = make_url(base)
    name = f"clientpay_empty_{uuid.uuid4().hex[:12]}"
    admin = Database(url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


class Firm:
    """Writes clients, matters and invoices straight into a test database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def invoice(
        self,
        number: str,
        *,
        client: str = "C001",
        client_name: str = "Acme Holdings",
        matter: str | None = "C001-001",
        description: str = "Lease review",
        day: str = "2026-01-15",
        amount: int = 10_000,
        balance: int = 10_000,
        source: InvoiceSource = InvoiceSource.CONNECT,
    ) -> Invoice:
        """Add an invoice, creating its client and matter on first mention."""
        from datetime import date

        from sqlalchemy import select

        from clientpay_tui.services.validation import search_key

        with self.db.write() as session:
            client_row = session.scalars(
                select(Client).where(Client.number_key == client.casefold())
            ).first()
            if client_row is None:
                client_row = Client(
                    number=client,
                    number_key=client.casefold(),
                    name=client_name,
                    name_key=search_key(client_name),
                )
                session.add(client_row)
                session.flush()
            matter_row = None
            if matter is not None:
                matter_row = session.scalars(
                    select(Matter).where(
                        Matter.client_id == client_row.id, Matter.number_key == matter.casefold()
                    )
                ).first()
                if matter_row is None:
                    matter_row = Matter(
                        client_id=client_row.id,
                        number=matter,
                        number_key=matter.casefold(),
                        description=description,
                        description_key=search_key(description),
                    )
                    session.add(matter_row)
                    session.flush()
            row = Invoice(
                client_id=client_row.id,
                matter_id=matter_row.id if matter_row else None,
                number=number,
                number_key=number.casefold(),
                invoice_date=date.fromisoformat(day),
                amount_cents=amount,
                balance_cents=balance,
                source=source,
            )
            session.add(row)
            session.flush()
            return row


@pytest.fixture
def firm(db: Database) -> Firm:
    return Firm(db)


NEWER = "9999_test_newer"


@pytest.fixture
def newer_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Pretend this version of the code ships one more migration than the database has.

    Returns ``(real head, the pretended newer head)``. Use it with a private database
    (``empty_database_url``): upgrading the shared PostgreSQL test database would outlive the test.
    """
    real_head = schema.head_revision()
    source = Path(migrations.__file__).parent
    target = tmp_path / "migrations"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / "versions" / f"{NEWER}.py").write_text(
        f'"""a later schema"""\n'
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        f"revision = {NEWER!r}\n"
        f"down_revision = {real_head!r}\n"
        "branch_labels = None\n"
        "depends_on = None\n\n\n"
        "def upgrade():\n"
        '    op.create_table("later_table", sa.Column("id", sa.Integer, primary_key=True))\n\n\n'
        "def downgrade():\n"
        '    op.drop_table("later_table")\n'
    )
    real_config = schema.alembic_config

    def config(connection=None):
        result = real_config(connection)
        result.set_main_option("script_location", str(target))
        return result

    monkeypatch.setattr(schema, "alembic_config", config)
    monkeypatch.setattr(schema, "HEAD_REVISION", NEWER)
    return real_head, NEWER


class SlowQuery:
    """A read of tens of seconds on either backend, unless stopped; :meth:`wait_running`
    returns once the database is executing it (so an interrupt lands inside the query)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ticking = threading.Event()  # SQLite: its progress handler ran

    def __call__(self) -> object:
        with self.db.read() as session:
            if not self.db.is_sqlite:
                return session.execute(text(f"SELECT pg_sleep(60) AS {SLOW_TAG}")).scalar()
            raw = session.connection().connection.dbapi_connection
            assert raw is not None
            raw.set_progress_handler(self._tick, 10_000)
            try:
                return session.execute(
                    text(
                        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c"
                        " WHERE x < 1000000000) SELECT count(*) FROM c"
                    )
                ).scalar()
            finally:
                raw.set_progress_handler(None, 0)

    def _tick(self) -> int:
        self._ticking.set()
        return 0  # go on

    def running(self) -> bool:
        if self.db.is_sqlite:
            return self._ticking.is_set()
        with self.db.read() as session:
            sql = (
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                " AND datname = current_database() AND query LIKE :tagged"
            )
            return bool(session.execute(text(sql), {"tagged": f"%AS {SLOW_TAG}"}).scalar())

    def wait_running(self, seconds: float = 10.0) -> None:
        until_sync(self.running, seconds, "the slow query to start")


SLOW_TAG = "clientpay_slow_query"


def run_slow_query(db: Database) -> object:
    """A read of tens of seconds on either backend, unless stopped."""
    return SlowQuery(db)()
