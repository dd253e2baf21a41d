"""Schema versioning with Alembic, driven from code (no ``alembic.ini``).

A new, empty database is brought to head on first use; an outdated one is refused until
``clientpay-tui db upgrade`` runs, so that two versions of the app never share a schema
unknowingly.
"""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from clientpay_tui.db.engine import Database, translate_errors
from clientpay_tui.db.models import Base
from clientpay_tui.db.search_index import is_search_index_object
from clientpay_tui.errors import DatabaseError, SchemaOutdated

UPGRADE_HINT = "run `clientpay-tui db upgrade`"


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "clientpay_tui.db:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with translate_errors(db), db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _is_empty(connection: Connection) -> bool:
    # An empty alembic_version table is what `downgrade base` leaves: still ours, still empty.
    return not set(inspect(connection).get_table_names()) - {"alembic_version"}


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Migrate to ``revision``. Returns the revisions before and after."""
    with translate_errors(db), db.engine.begin() as connection:
        before = MigrationContext.configure(connection).get_current_revision()
        if before is None and not _is_empty(connection):
            raise DatabaseError(
                f"{db.display_url} holds tables but no ClientPay schema version; "
                "refusing to touch it"
            )
        command.upgrade(alembic_config(connection), revision)
        after = MigrationContext.configure(connection).get_current_revision()
    assert after is not None
    return before, after


def ensure_current(db: Database) -> None:
    """Create an empty database at head, accept a current one, refuse an outdated one."""
    head = head_revision()
    with translate_errors(db), db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        empty = current is None and _is_empty(connection)
    if current == head:
        return
    if empty:
        upgrade(db)
        return
    if current is None:
        raise DatabaseError(
            f"{db.display_url} holds tables but no ClientPay schema version; refusing to use it"
        )
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current not in known:
        raise SchemaOutdated(
            f"the database is at schema {current}, newer than this version of clientpay-tui "
            f"knows ({head}); upgrade the app"
        )
    raise SchemaOutdated(
        f"the database schema is at {current} but this version needs {head}; {UPGRADE_HINT}"
    )


def schema_drift(db: Database) -> list[object]:
    """Differences between the models and the migrated database (empty when in step)."""

    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        return not is_search_index_object(name, type_)

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
