"""The contains-search indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) follow their tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update

from clientpay_tui.db.engine import Database
from clientpay_tui.db.models import Client, Matter, Payer
from clientpay_tui.db.search_index import FTS_TABLES, contains, like_escape, prefix_range

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _find_payers(db: Database, needle: str) -> set[int]:
    with db.read() as session:
        dialect = session.get_bind().dialect.name
        where = contains(dialect, Payer.id, [Payer.sort_name, Payer.email_key], needle)
        return set(session.scalars(select(Payer.id).where(where)))


def _check_fts_integrity(db: Database) -> None:
    if not db.is_sqlite:
        return
    with db.engine.begin() as connection:
        for fts in FTS_TABLES:
            # rank=1 compares the index with the content table, not only with itself.
            connection.exec_driver_sql(
                f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"
            )


@pytest.mark.parametrize("needle", ["ab", "abcdef"])  # LIKE fallback and indexed paths
def test_payer_index_follows_insert_update_delete(db: Database, needle: str) -> None:
    with db.write() as session:
        payer = Payer(
            name="Xabcdefx",
            sort_name="xabcdefx",
            email="m@n.test",
            email_key="m@n.test",
            created_at=NOW,
            updated_at=NOW,
        )
        other = Payer(name="Other", sort_name="other", created_at=NOW, updated_at=NOW)
        session.add_all([payer, other])
        session.flush()
        payer_id = payer.id
    assert _find_payers(db, needle) == {payer_id}
    _check_fts_integrity(db)

    with db.write() as session:
        session.execute(
            update(Payer)
            .where(Payer.id == payer_id)
            .values(sort_name="renamed", email_key="q@abcdef.test")
        )
    assert _find_payers(db, "renamed") == {payer_id}
    assert _find_payers(db, needle) == {payer_id}  # now through the email key
    with db.write() as session:
        session.execute(update(Payer).where(Payer.id == payer_id).values(email_key=None))
    assert _find_payers(db, needle) == set()
    assert _find_payers(db, "xabc") == set()
    _check_fts_integrity(db)

    with db.write() as session:
        session.delete(session.get(Payer, payer_id))
    assert _find_payers(db, "renamed") == set()
    assert _find_payers(db, "other") == {other.id}
    _check_fts_integrity(db)


def test_client_and_matter_indexes_follow_their_tables(db: Database) -> None:
    with db.write() as session:
        client = Client(number="C1", number_key="c1", name="Granite Ltd", name_key="granite ltd")
        session.add(client)
        session.flush()
        matter = Matter(
            client_id=client.id,
            number="M1",
            number_key="m1",
            description="Lease review",
            description_key="lease review",
        )
        session.add(matter)
        session.flush()
        ids = client.id, matter.id

    def found() -> tuple[set[int], set[int]]:
        with db.read() as session:
            dialect = session.get_bind().dialect.name
            clients = set(
                session.scalars(
                    select(Client.id).where(
                        contains(dialect, Client.id, [Client.name_key], "anite")
                    )
                )
            )
            matters = set(
                session.scalars(
                    select(Matter.id).where(
                        contains(dialect, Matter.id, [Matter.description_key], "se rev")
                    )
                )
            )
            return clients, matters

    assert found() == ({ids[0]}, {ids[1]})
    with db.write() as session:
        session.execute(update(Client).values(name_key="basalt"))
        session.execute(update(Matter).values(description_key="tax planning"))
    assert found() == (set(), set())
    _check_fts_integrity(db)
    with db.write() as session:
        session.execute(update(Client).values(name_key="granite"))
        session.execute(update(Matter).values(description_key="lease review"))
    assert found() == ({ids[0]}, {ids[1]})
    with db.write() as session:
        session.delete(session.get(Matter, ids[1]))
        session.flush()
        session.delete(session.get(Client, ids[0]))
    assert found() == (set(), set())
    _check_fts_integrity(db)


@pytest.mark.parametrize("needle", ['o"b', "o'brien", "100%", "a_b", "x\\y", "-foo", "and or not"])
def test_awkward_needles_match_literally(db: Database, needle: str) -> None:
    with db.write() as session:
        hit = Payer(name=needle, sort_name=f"[{needle}]", created_at=NOW, updated_at=NOW)
        session.add_all(
            [
                hit,
                Payer(
                    name="decoy",
                    sort_name="decoy 100 percent aXb o b",
                    created_at=NOW,
                    updated_at=NOW,
                ),
            ]
        )
        session.flush()
        hit_id = hit.id
    assert _find_payers(db, needle) == {hit_id}


def test_postgresql_has_trigram_indexes(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL only")
    with db.read() as session:
        names = set(
            session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm'"))
        )
    assert names == {
        "ix_payer_sort_name_trgm",
        "ix_payer_email_key_trgm",
        "ix_client_name_key_trgm",
        "ix_matter_description_key_trgm",
        "ix_invoice_number_key_trgm",
    }


def test_like_escape_and_prefix_range(db: Database) -> None:
    assert like_escape("a%b_c\\") == "a\\%b\\_c\\\\"
    with db.write() as session:
        for number in ("ab", "ab1", "abz", "ac", "a", "ab\U0001f600"):
            session.add(Client(number=number, number_key=number, name=number, name_key=number))
    with db.read() as session:
        got = set(
            session.scalars(select(Client.number).where(prefix_range(Client.number_key, "ab")))
        )
    assert got == {"ab", "ab1", "abz", "ab\U0001f600"}
