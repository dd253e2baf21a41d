"""Indexes for contains-searches, which plain B-trees cannot serve.

SQLite gets FTS5 tables with the trigram tokenizer, kept in step with their tables by triggers;
PostgreSQL gets ``pg_trgm`` GIN indexes. Both serve a substring of three or more characters;
shorter text falls back to ``LIKE`` (it matches so much that a sorted scan finds a page fast).
These objects live in migrations only, so autogenerate is told to ignore them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Integer, bindparam, column, or_, text
from sqlalchemy.sql import ColumnElement

# fts table -> (content table, indexed key columns)
FTS_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "payer_fts": ("payer", ("sort_name", "email_key")),
    "client_fts": ("client", ("name_key",)),
    "matter_fts": ("matter", ("description_key",)),
    "invoice_fts": ("invoice", ("number_key",)),
}
MIN_TRIGRAM = 3
FIRST_FTS_TABLES = ("payer_fts", "client_fts", "matter_fts")
"""The indexes of migration 0001 (0009 added ``invoice_fts``)."""


def is_search_index_object(name: str | None, type_: str) -> bool:
    if not name:
        return False
    if type_ == "table":
        return any(name == fts or name.startswith(f"{fts}_") for fts in FTS_TABLES)
    return type_ == "index" and name.endswith("_trgm")


def _trgm_indexes(only: Sequence[str]) -> list[tuple[str, str, str]]:
    return [
        (f"ix_{table}_{column}_trgm", table, column)
        for fts, (table, columns) in FTS_TABLES.items()
        if fts in only
        for column in columns
    ]


def create_search_indexes(connection: Connection, only: Sequence[str] = FIRST_FTS_TABLES) -> None:
    """Create the backend's contains-search indexes and fill them from existing rows.

    Args:
        only: the indexes to create, by their FTS table's name (the migration that added
            them names them; PostgreSQL's trigram indexes cover the same columns).
    """
    if connection.dialect.name == "sqlite":
        for fts, (table, columns) in FTS_TABLES.items():
            if fts not in only:
                continue
            cols = ", ".join(columns)
            new = ", ".join(f"new.{c}" for c in columns)
            old = ", ".join(f"old.{c}" for c in columns)
            connection.exec_driver_sql(
                f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
                f"content_rowid='id', tokenize='trigram')"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
                f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END"
            )
            connection.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in _trgm_indexes(only):
            connection.exec_driver_sql(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)"
            )


def drop_search_indexes(connection: Connection, only: Sequence[str] = FIRST_FTS_TABLES) -> None:
    if connection.dialect.name == "sqlite":
        for fts in only:
            for suffix in ("ai", "ad", "au"):
                connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {fts}")
    elif connection.dialect.name == "postgresql":
        for name, _table, _column in _trgm_indexes(only):
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def like_escape(value: str) -> str:
    """Escape ``\\``, ``%`` and ``_`` so that they match literally with ``ESCAPE '\\'``."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix_successor(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix`` (``None``: no bound).

    ``prefix + "\\U0010ffff"`` is not one: a key may hold U+10FFFF itself right after the
    prefix. Incrementing the last code point (skipping the surrogates, carrying past
    U+10FFFF) is exact for byte-wise UTF-8 comparison, which equals code point order.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars.pop()) + 1
        if code <= 0x10FFFF:
            if 0xD800 <= code <= 0xDFFF:
                code = 0xE000
            return "".join(chars) + chr(code)
    return None


def prefix_range(column: Any, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as a range a B-tree answers on both backends."""
    upper = prefix_successor(prefix)
    if upper is None:
        return column >= prefix
    return (column >= prefix) & (column < upper)


def _fts_match(key_columns: Sequence[Any], needle: str) -> tuple[str, str]:
    """The FTS table of ``key_columns`` and the MATCH expression for ``needle`` as a phrase."""
    table = key_columns[0].table.name  # type: ignore[union-attr]
    fts = next(name for name, (tbl, _cols) in FTS_TABLES.items() if tbl == table)
    names = " ".join(key.name for key in key_columns)
    return fts, "{" + names + "} : " + '"' + needle.replace('"', '""') + '"'


def can_count_matches(dialect_name: str, needle: str) -> bool:
    """Whether :func:`count_matches` can count ``needle``'s matches (SQLite's FTS index, text of
    a trigram or more); elsewhere it answers ``None`` without a statement."""
    return dialect_name == "sqlite" and len(needle) >= MIN_TRIGRAM


def count_matches(
    connection: Connection, key_columns: Sequence[Any], needle: str, cap: int
) -> int | None:
    """How many rows :func:`contains` would find, counted up to ``cap`` (cheap: the index stops
    early). ``None`` where no index answers it (:func:`can_count_matches`)."""
    if not can_count_matches(connection.dialect.name, needle):
        return None
    fts, match = _fts_match(key_columns, needle)
    counted = connection.execute(
        text(f"SELECT count(*) FROM (SELECT rowid FROM {fts} WHERE {fts} MATCH :m LIMIT :cap)"),
        {"m": match, "cap": cap},
    ).scalar()
    return int(counted or 0)


def contains(
    dialect_name: str,
    id_column: Any,
    key_columns: Sequence[Any],
    needle: str,
    *,
    use_index: bool = True,
    limit: int | None = None,
) -> ColumnElement[bool]:
    """One of ``key_columns`` contains ``needle`` (already casefolded), using the search index.

    Args:
        dialect_name: ``sqlite`` or ``postgresql``.
        id_column: the table's primary key (the FTS rowid on SQLite).
        key_columns: casefolded ``*_key`` columns of one table covered by :data:`FTS_TABLES`.
        needle: the casefolded text to find; ``%``, ``_`` and quotes match literally.
        use_index: ``False`` writes a plain ``LIKE`` on SQLite too, for a query that walks
            another index in order and stops after a page (many matches).
        limit: on SQLite, take at most this many matches from the index: for a count capped
            below it, which is then still exact up to its cap. SQLite lists every match of
            ``IN (…)`` before it tests the first row (a million for ``inv``: 0.7 s).
    """
    if dialect_name == "sqlite" and use_index and len(needle) >= MIN_TRIGRAM:
        fts, match = _fts_match(key_columns, needle)
        param = f"match_{fts}"
        capped = f" LIMIT {int(limit)}" if limit is not None else ""
        matches = (
            text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :{param}{capped}")
            # unique: a search and a column filter on one table each bind their own phrase.
            .bindparams(bindparam(param, match, unique=True))
            .columns(column("rowid", Integer))
        )
        return id_column.in_(matches)
    return contains_row_by_row(key_columns, needle)


def contains_row_by_row(key_columns: Sequence[Any], needle: str) -> ColumnElement[bool]:
    """One of ``key_columns`` contains ``needle`` (casefolded), as ``LIKE``: tested on each row
    read (any columns, a subquery's too), ``%``, ``_`` and ``\\`` matching literally."""
    pattern = f"%{like_escape(needle)}%"
    return or_(*(key.like(pattern, escape="\\") for key in key_columns))
