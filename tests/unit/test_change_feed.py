"""The change feed: what one connection commits, a feed on another engine sees within a
second, on both backends; bursts arrive coalesced; every writer is covered by triggers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import text

from clientpay_tui.db.change_feed import ChangeFeed, Changes, change_feed
from clientpay_tui.db.change_triggers import trigger_names
from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Association, OutboxEmail, Payer, PortalLogin, Role
from clientpay_tui.services.context import Actor
from clientpay_tui.services.facade import Services
from clientpay_tui.services.payers import PayerForm

WITHIN = 1.0
"""Seconds: what the issue asks of open screens."""


async def changes_until(
    feed: ChangeFeed, wanted: Callable[[Changes], bool], seconds: float = WITHIN
) -> Changes:
    """Batches from ``feed`` until one satisfies ``wanted``; fails after ``seconds``."""

    async def wait() -> Changes:
        while True:
            changes = await feed.next()
            if wanted(changes):
                return changes

    return await asyncio.wait_for(wait(), seconds)


async def test_a_change_on_another_engine_arrives_within_a_second(
    database_url: str, services: Services, admin: Actor
) -> None:
    watcher = Database(database_url)  # another engine, as another process would have
    try:
        async with change_feed(watcher) as feed:
            form = PayerForm(name="Ada Lovelace", email="ada@example.com")
            created = await asyncio.to_thread(services.payers.create, admin, form)
            changes = await changes_until(feed, lambda c: c.touches("payer", created.id))
            assert not changes.everything

            # A grant: the payer's login appears, its welcome email is queued.
            await asyncio.to_thread(services.access.grant, admin, created.id)
            seen = Changes()
            login_id = None

            def granted(changes: Changes) -> bool:
                nonlocal seen, login_id
                seen = _merge(seen, changes)
                login_id = login_id or _login_id(services, created.id)
                return seen.touches("outbox", created.id) and seen.touches("login", login_id)

            await changes_until(feed, granted)
            assert seen.touches_payer(created.id, login_id)
            assert not seen.touches_payer(created.id + 1, None)
    finally:
        watcher.dispose()


async def test_nothing_arrives_while_nothing_watched_changes(
    database_url: str, services: Services, admin: Actor
) -> None:
    watcher = Database(database_url)
    try:
        async with change_feed(watcher, interval=0.05) as feed:
            # Staff accounts (and the audit event of adding one) are not watched: no batch.
            await asyncio.to_thread(
                services.staff.add, admin, "newbie", Role.AGENT, "correct horse battery"
            )
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(feed.next(), 0.5)
    finally:
        watcher.dispose()


async def test_a_bulk_change_arrives_as_one_batch_for_every_row(
    database_url: str, services: Services, admin: Actor, tmp_path
) -> None:
    watcher = Database(database_url)
    try:
        async with change_feed(watcher) as feed:
            rows = "\n".join(f"Payer {i},p{i}@example.com" for i in range(2500))
            path = tmp_path / "payers.csv"
            path.write_text(f"name,email\n{rows}\n")
            await asyncio.to_thread(services.imports.payers, admin, path)
            changes = await changes_until(feed, lambda c: c.touches("payer", -1))
            # Too many to list: the feed says "every payer", not 2,500 ids.
            assert changes.everything or "payer" in changes.every
    finally:
        watcher.dispose()


async def test_changes_by_any_writer_are_seen(database_url: str, services: Services, admin: Actor):
    """Triggers, not the services, announce changes: raw SQL (as the portal, the worker or a
    script might write) is seen too."""
    payer = services.payers.create(admin, PayerForm(name="Grace", email="grace@example.com"))
    watcher = Database(database_url)
    try:
        async with change_feed(watcher) as feed:
            with services.db.write() as session:
                session.execute(
                    text("UPDATE payer SET phone = '555' WHERE id = :id"), {"id": payer.id}
                )
            await changes_until(feed, lambda c: c.touches("payer", payer.id))
    finally:
        watcher.dispose()


def test_every_watched_table_has_its_triggers_at_head(db: Database) -> None:
    """A later migration that rebuilds a watched table on SQLite drops its triggers: this
    catches it."""
    dialect = db.engine.dialect.name
    with db.engine.connect() as connection:
        if dialect == "sqlite":
            found = set(
                connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                ).scalars()
            )
        else:
            found = set(
                connection.exec_driver_sql(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                ).scalars()
            )
    assert trigger_names(dialect) <= found
    for model in (Payer, PortalLogin, Association, OutboxEmail):
        assert any(name.startswith(f"{model.__tablename__}_changes_") for name in found)


def _merge(a: Changes, b: Changes) -> Changes:
    ids = {
        kind: a.ids.get(kind, frozenset()) | b.ids.get(kind, frozenset())
        for kind in {*a.ids, *b.ids}
    }
    return Changes(ids, a.every | b.every, a.everything or b.everything)


def _login_id(services: Services, payer_id: int) -> int | None:
    with services.db.read() as session:
        payer = session.get(Payer, payer_id)
        return payer.login_id if payer else None


@pytest.mark.postgres
async def test_a_lost_listen_connection_is_replaced_and_reports_everything(
    database_url: str, services: Services, admin: Actor
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN connections are PostgreSQL's")
    watcher = Database(database_url)
    try:
        async with change_feed(watcher) as feed:
            # The server ends the listening session (a restart, an administrator).
            with services.db.write() as session:
                ended = session.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE query = 'LISTEN clientpay_changes' AND datname = current_database() "
                        "AND pid <> pg_backend_pid()"
                    )
                ).all()
            assert ended
            # What happened while it was away is unknown: everything may have changed.
            await changes_until(feed, lambda c: c.everything, seconds=5)
            payer = services.payers.create(admin, PayerForm(name="Ada", email="a@example.com"))
            await changes_until(feed, lambda c: c.touches("payer", payer.id))
    finally:
        watcher.dispose()
