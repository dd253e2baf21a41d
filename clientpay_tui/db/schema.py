"""Schema versioning with Alembic, driven from code (no ``alembic.ini``).

A new, empty database is brought to head on first use; an outdated one is refused until
``clientpay-tui db upgrade`` runs, so that two versions of the app never share a schema
unknowingly.

Alembic is imported only to migrate, to refuse, or for the developer tools: checking that a
database is at head reads its ``alembic_version`` row and compares it with
:data:`HEAD_REVISION` (importing Alembic took ~300 ms of every start).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from clientpay_tui.db.engine import Database, translate_errors
from clientpay_tui.errors import DatabaseError, SchemaOutdated

if TYPE_CHECKING:
    from alembic.config import Config

UPGRADE_HINT = "run `clientpay-tui db upgrade`"
HEAD_REVISION = "0010"
"""The newest migration in ``migrations/versions`` (a test checks it against Alembic's head:
bump it with every new migration)."""
VERSION_TABLE = "alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "clientpay_tui.db:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The head revision as Alembic reads it from the migration scripts (slow: imports
    Alembic; :data:`HEAD_REVISION` is the cheap copy)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with translate_errors(db), db.engine.connect() as connection:
        return _stored_revision(connection)


def _stored_revision(connection: Connection) -> str | None:
    """The revision in ``alembic_version`` (``None`` without the table or its row), read
    without Alembic."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()
    found = list(versions)
    if len(found) > 1:
        raise DatabaseError(f"the database records several schema heads: {', '.join(found)}")
    return found[0] if found else None


def _is_empty(connection: Connection) -> bool:
    # An empty alembic_version table is what `downgrade base` leaves: still ours, still empty.
    return not set(inspect(connection).get_table_names()) - {"alembic_version"}


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to ``revision``. Returns the revisions before and after."""
    from alembic import command
    from alembic.migration import MigrationContext

    with translate_errors(db), db.engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        if before is None and not _is_empty(connection):
            raise DatabaseError(
                f"{db.display_url} holds tables but no ClientPay schema version; "
                "refusing to touch it"
            )
        if before is not None and before not in known_revisions():
            raise _newer_than_known(before)
        command.upgrade(alembic_config(connection), revision)
        after = MigrationContext.configure(connection).get_current_revision()
    assert after is not None
    return before, after


def known_revisions() -> set[str]:
    """Every revision this version's migrations know (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _newer_than_known(current: str) -> SchemaOutdated:
    return SchemaOutdated(
        f"the database is at schema {current}, newer than this version of clientpay-tui "
        f"knows ({head_revision()}); upgrade the app"
    )


def ensure_current(db: Database) -> None:
    """Create an empty database at head, accept a current one, refuse an outdated one."""
    with translate_errors(db), db.engine.connect() as connection:
        current = _stored_revision(connection)
        empty = current is None and _is_empty(connection)
    if current == HEAD_REVISION:
        return
    if empty:
        upgrade(db)
        return
    if current is None:
        raise DatabaseError(
            f"{db.display_url} holds tables but no ClientPay schema version; refusing to use it"
        )
    if current not in known_revisions():
        raise _newer_than_known(current)
    raise SchemaOutdated(
        f"the database schema is at {current} but this version needs {head_revision()}; "
        f"{UPGRADE_HINT}"
    )


def schema_drift(db: Database) -> list[object]:
    """Differences between the models and the migrated database (empty when in step)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from clientpay_tui.db.change_triggers import is_change_feed_object
    from clientpay_tui.db.models import Base
    from clientpay_tui.db.search_index import is_search_index_object

    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        return not (is_search_index_object(name, type_) or is_change_feed_object(name, type_))

    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include, "compare_type": True}
        )
        return list(compare_metadata(context, Base.metadata))


def revision(message: str) -> str:
    """Developer tool: autogenerate a new migration from the models' changes.

    Migrates a throw-away SQLite database to head and compares it with the models; the new
    revision file lands in ``clientpay_tui/db/migrations/versions``. Review it before committing
    (search indexes are maintained by hand in migrations, see ``search_index``).
    """
    import tempfile
    from pathlib import Path

    from alembic import command

    with tempfile.TemporaryDirectory() as folder:
        db = Database(f"sqlite:///{Path(folder) / 'revision.db'}")
        upgrade(db)
        with db.engine.begin() as connection:
            script = command.revision(
                alembic_config(connection), message=message, autogenerate=True
            )
        db.dispose()
    path = getattr(script, "path", None)
    return str(path)
