"""Alembic environment: runs on the connection handed over by ``clientpay_tui.db.schema``."""

from __future__ import annotations

from typing import Any

from alembic import context

from clientpay_tui.db.change_triggers import is_change_feed_object
from clientpay_tui.db.models import Base
from clientpay_tui.db.search_index import is_search_index_object


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Keep the search indexes (FTS5 tables, pg_trgm indexes) and the change log out of
    autogenerate."""
    return not (is_search_index_object(name, type_) or is_change_feed_object(name, type_))


def run_migrations() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
