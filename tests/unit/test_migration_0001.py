"""Migration 0001 carries its own DDL: changing today's search-index code must not change what
an old migration does to a database upgraded from scratch."""

from __future__ import annotations

import ast
from pathlib import Path

from sqlalchemy import inspect, text

from clientpay_tui.db.engine import Database

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "clientpay_tui/db/migrations/versions/0001_initial_schema.py"
)


def test_0001_imports_no_live_schema_code_but_its_column_types() -> None:
    tree = ast.parse(MIGRATION.read_text())
    imported = {
        alias.name if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    ours = {name for name in imported if name and name.startswith("clientpay_tui")}
    assert ours == {"clientpay_tui.db.types"}  # column types stored in the revision's DDL


def test_0001_creates_the_search_indexes_on_each_backend(db: Database) -> None:
    with db.engine.connect() as connection:
        if db.is_sqlite:
            tables = set(inspect(connection).get_table_names())
            assert {"payer_fts", "client_fts", "matter_fts"} <= tables
            triggers = set(
                connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                ).scalars()
            )
            assert {
                f"{t}_fts_{s}" for t in ("payer", "client", "matter") for s in ("ai", "ad", "au")
            } <= triggers
        else:
            names = set(
                connection.execute(
                    text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'")
                ).scalars()
            )
            assert {
                "ix_payer_sort_name_trgm",
                "ix_payer_email_key_trgm",
                "ix_client_name_key_trgm",
                "ix_matter_description_key_trgm",
            } <= names  # (0009 adds the invoice numbers' index)
