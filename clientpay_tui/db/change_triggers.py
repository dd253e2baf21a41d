"""Triggers that announce changes to what open staff screens show (see ``change_feed``).

Every writer is covered — staff sessions, the portal, the mail worker, imports — because the
database itself announces the change, not the code that made it:

- PostgreSQL: statement-level triggers ``NOTIFY clientpay_changes, '<kind>:<ids>'`` (ids
  comma-separated; ``*`` when one statement touched more than :data:`MAX_IDS` of them, so a
  bulk import sends one notification, not 100,000). Notifications go out at commit.
- SQLite (no NOTIFY): row triggers append ``(kind, ref)`` to a small ``change_log`` table that
  readers poll; it keeps the last 1,000 to 2,000 changes (a reader further behind reloads
  everything).

Kinds and what their ids are: ``payer`` (payer id), ``login`` (portal login id, also for both
logins when a payer's login changes), ``association`` and ``outbox`` (payer id).

These objects live in migrations only (like the search indexes): autogenerate is told to
ignore the ``change_log`` table. A migration that rebuilds one of the watched tables on SQLite
(batch mode copies the table and drops its triggers) must call :func:`create_change_triggers`
again; ``tests/unit/test_change_feed.py`` checks every trigger exists at head.
"""

from __future__ import annotations

from sqlalchemy import Connection

CHANNEL = "clientpay_changes"
CHANGE_LOG = "change_log"
MAX_IDS = 100
"""More ids than this in one statement are announced as ``*`` (everything of that kind)."""
KEEP = 1000
"""SQLite: the change log is pruned to its last ``KEEP`` to ``2 * KEEP`` rows."""

WATCHED: dict[str, tuple[str, str]] = {
    # table -> (kind, column holding the id announced)
    "payer": ("payer", "id"),
    "portal_login": ("login", "id"),
    "association": ("association", "payer_id"),
    "outbox_email": ("outbox", "payer_id"),
}
_OPS = {"insert": "INSERT", "update": "UPDATE", "delete": "DELETE"}


def is_change_feed_object(name: str | None, type_: str) -> bool:
    return type_ == "table" and name == CHANGE_LOG


def trigger_names(dialect: str) -> set[str]:
    """Every trigger :func:`create_change_triggers` makes on ``dialect``."""
    names = {f"{table}_changes_{op}" for table in WATCHED for op in _OPS}
    names.add("payer_changes_login")
    if dialect == "sqlite":
        names.add(f"{CHANGE_LOG}_prune")
    return names


def create_change_triggers(connection: Connection) -> None:
    """Create the change log (SQLite) and the triggers; safe to run again after a table
    rebuild (existing triggers are replaced)."""
    if connection.dialect.name == "sqlite":
        _create_sqlite(connection)
    elif connection.dialect.name == "postgresql":
        _create_postgresql(connection)


def drop_change_triggers(connection: Connection) -> None:
    sql = connection.exec_driver_sql
    if connection.dialect.name == "sqlite":
        for name in trigger_names("sqlite"):
            sql(f"DROP TRIGGER IF EXISTS {name}")
        sql(f"DROP TABLE IF EXISTS {CHANGE_LOG}")
    elif connection.dialect.name == "postgresql":
        for table in WATCHED:
            for op in _OPS:
                sql(f"DROP TRIGGER IF EXISTS {table}_changes_{op} ON {table}")
        sql("DROP TRIGGER IF EXISTS payer_changes_login ON payer")
        sql("DROP FUNCTION IF EXISTS clientpay_notify_changes()")
        sql("DROP FUNCTION IF EXISTS clientpay_notify_payer_logins()")


def _create_sqlite(connection: Connection) -> None:
    sql = connection.exec_driver_sql
    # INTEGER PRIMARY KEY without AUTOINCREMENT: pruning never deletes the newest row, so
    # the sequence never goes back (and no sqlite_sequence write per change).
    sql(
        f"CREATE TABLE IF NOT EXISTS {CHANGE_LOG} "
        "(seq INTEGER PRIMARY KEY, kind VARCHAR(16) NOT NULL, ref INTEGER)"
    )
    sql(f"DROP TRIGGER IF EXISTS {CHANGE_LOG}_prune")
    sql(
        f"CREATE TRIGGER {CHANGE_LOG}_prune AFTER INSERT ON {CHANGE_LOG} "
        f"WHEN new.seq % {KEEP} = 0 BEGIN "
        f"DELETE FROM {CHANGE_LOG} WHERE seq <= new.seq - {KEEP}; END"
    )
    for table, (kind, column) in WATCHED.items():
        for op, keyword in _OPS.items():
            row = "old" if op == "delete" else "new"
            name = f"{table}_changes_{op}"
            sql(f"DROP TRIGGER IF EXISTS {name}")
            sql(
                f"CREATE TRIGGER {name} AFTER {keyword} ON {table} BEGIN "
                f"INSERT INTO {CHANGE_LOG} (kind, ref) VALUES ('{kind}', {row}.{column}); END"
            )
    # A payer joining or leaving a login changes what every record sharing it shows.
    sql("DROP TRIGGER IF EXISTS payer_changes_login")
    sql(
        "CREATE TRIGGER payer_changes_login AFTER UPDATE OF login_id ON payer "
        "WHEN old.login_id IS NOT new.login_id BEGIN "
        f"INSERT INTO {CHANGE_LOG} (kind, ref) "
        "SELECT 'login', old.login_id WHERE old.login_id IS NOT NULL; "
        f"INSERT INTO {CHANGE_LOG} (kind, ref) "
        "SELECT 'login', new.login_id WHERE new.login_id IS NOT NULL; END"
    )


_PG_NOTIFY = f"""
CREATE OR REPLACE FUNCTION clientpay_notify_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed_kind text := TG_ARGV[0];
    id_column text := TG_ARGV[1];
    rows_table text := CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END;
    found_rows boolean;
    n bigint;
    ids text;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', rows_table) INTO found_rows;
    IF NOT found_rows THEN
        RETURN NULL;
    END IF;
    EXECUTE format(
        'SELECT count(*), string_agg(ref::text, '','') FROM '
        '(SELECT DISTINCT %I AS ref FROM %I WHERE %I IS NOT NULL LIMIT {MAX_IDS + 1}) r',
        id_column, rows_table, id_column
    ) INTO n, ids;
    IF n > {MAX_IDS} THEN
        ids := '*';
    END IF;
    PERFORM pg_notify('{CHANNEL}', changed_kind || ':' || coalesce(ids, ''));
    RETURN NULL;
END
$$
"""

_PG_PAYER_LOGINS = f"""
CREATE OR REPLACE FUNCTION clientpay_notify_payer_logins() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    ids text;
BEGIN
    SELECT count(*), string_agg(ref::text, ',') INTO n, ids FROM (
        SELECT DISTINCT ref FROM (
            SELECT o.login_id AS ref FROM old_rows o JOIN new_rows c ON c.id = o.id
            WHERE o.login_id IS DISTINCT FROM c.login_id
            UNION ALL
            SELECT c.login_id FROM old_rows o JOIN new_rows c ON c.id = o.id
            WHERE o.login_id IS DISTINCT FROM c.login_id
        ) moved WHERE ref IS NOT NULL LIMIT {MAX_IDS + 1}
    ) r;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF n > {MAX_IDS} THEN
        ids := '*';
    END IF;
    PERFORM pg_notify('{CHANNEL}', 'login:' || ids);
    RETURN NULL;
END
$$
"""


def _create_postgresql(connection: Connection) -> None:
    sql = connection.exec_driver_sql
    # psycopg reads "%" as a parameter mark, and format() in PL/pgSQL needs them.
    sql(_PG_NOTIFY.replace("%", "%%"))
    sql(_PG_PAYER_LOGINS.replace("%", "%%"))
    for table, (kind, column) in WATCHED.items():
        for op, keyword in _OPS.items():
            # Transition tables need one trigger per event.
            rows = "OLD TABLE AS old_rows" if op == "delete" else "NEW TABLE AS new_rows"
            name = f"{table}_changes_{op}"
            sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            sql(
                f"CREATE TRIGGER {name} AFTER {keyword} ON {table} REFERENCING {rows} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION clientpay_notify_changes('{kind}', "
                f"'{column}')"
            )
    sql("DROP TRIGGER IF EXISTS payer_changes_login ON payer")
    sql(
        "CREATE TRIGGER payer_changes_login AFTER UPDATE ON payer "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION clientpay_notify_payer_logins()"
    )
