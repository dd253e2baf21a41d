"""Payer search, paging, count, create and edit with optimistic locking."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from clientpay_tui.db.models import Association, AuditEvent, Payer
from clientpay_tui.errors import NotFound, StaleEdit, ValidationFailed
from clientpay_tui.services import payer_search
from clientpay_tui.services.payers import AccessStatus, PayerForm

NOW = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture(params=["gathered", "walked"])
def plan(request, monkeypatch):
    """Run a search test (marked ``@every_plan``) both ways: few matches gathered through the
    indexes, many found by walking the name order (forced here by pretending every text and
    client number is broad). Creating and updating do not plan, so run once."""
    if request.param == "walked":
        monkeypatch.setattr(payer_search, "count_matches", lambda *args: 10**9)
        monkeypatch.setattr(payer_search, "BROAD_CLIENTS", 1)
    return request.param


every_plan = pytest.mark.usefixtures("plan")


def _add(services, admin, name, email=None):
    return services.payers.create(admin, PayerForm(name=name, email=email)).id


def _names(rows):
    return [row.name for row in rows]


def _associate(db, payer_id, **target):
    with db.write() as session:
        session.add(Association(payer_id=payer_id, created_by="t", created_at=NOW, **target))


@pytest.fixture
def people(services, admin):
    return {
        "ada": _add(services, admin, "Ada Lovelace", "ada@analytical.example.com"),
        "alan": _add(services, admin, "Alan Turing", "alan@bletchley.example.com"),
        "grace": _add(services, admin, "Grace Hopper", "grace@navy.example.com"),
        "pct": _add(services, admin, "100% Mutual_Trust", "mutual@trust.example.com"),
        "plain": _add(services, admin, "1000 MutualXTrust", "other@trust.example.com"),
    }


@every_plan
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "",
            [
                "100% Mutual_Trust",
                "1000 MutualXTrust",
                "Ada Lovelace",
                "Alan Turing",
                "Grace Hopper",
            ],
        ),
        ("love", ["Ada Lovelace"]),  # name contains (indexed, 3+ characters)
        ("LOVELACE", ["Ada Lovelace"]),  # case-insensitive
        ("ur", ["Alan Turing"]),  # short text: LIKE fallback
        ("bletchley", ["Alan Turing"]),  # email contains
        ("@NAVY.EX", ["Grace Hopper"]),
        ("%", ["100% Mutual_Trust"]),  # % is literal, not a wildcard
        ("l_t", ["100% Mutual_Trust"]),  # _ is literal too
        ("0%", ["100% Mutual_Trust"]),
        ("100%", ["100% Mutual_Trust"]),
        ("zzz", []),
        ("  ada  ", ["Ada Lovelace"]),  # surrounding blanks do not count
    ],
)
def test_search_by_name_and_email(services, admin, people, text, expected):
    assert _names(services.payers.search(admin, text)) == expected


@every_plan
def test_search_by_client_number_prefix_through_associations(services, admin, people, firm, db):
    inv1 = firm.invoice("INV-1", client="K-7001", matter="K-7001-01")
    inv2 = firm.invoice("INV-2", client="K-7002", matter="K-7002-01")
    inv3 = firm.invoice("INV-3", client="K-8000", matter=None)
    _associate(db, people["ada"], client_id=inv1.client_id)
    _associate(db, people["alan"], matter_id=inv2.matter_id)
    _associate(db, people["grace"], invoice_id=inv3.id)

    assert _names(services.payers.search(admin, "k-70")) == ["Ada Lovelace", "Alan Turing"]
    assert _names(services.payers.search(admin, "K-7002")) == ["Alan Turing"]
    assert _names(services.payers.search(admin, "k-8")) == ["Grace Hopper"]
    assert _names(services.payers.search(admin, "7001")) == []  # a prefix, not a substring


@every_plan
def test_paging_is_stable_for_equal_names(services, admin):
    ids = [_add(services, admin, name) for name in ["Sam Lee", "sam lee", "Sam Lee", "Abe", "Zed"]]
    pages = [services.payers.search(admin, "", offset=offset, limit=2) for offset in (0, 2, 4)]
    seen = [row.id for page in pages for row in page]
    assert sorted(seen) == sorted(ids)  # every payer once, no gaps, no repeats
    assert seen == [ids[3], ids[0], ids[1], ids[2], ids[4]]  # by name, then by id
    assert services.payers.search(admin, "", offset=5) == []


@every_plan
def test_count_is_capped(services, admin):
    for i in range(5):
        _add(services, admin, f"Counted {i}")
    _add(services, admin, "Someone else")
    assert services.payers.count(admin, "counted") == (5, False)
    assert services.payers.count(admin, "counted", cap=3) == (3, True)
    assert services.payers.count(admin, "counted", cap=5) == (5, False)
    assert services.payers.count(admin, "") == (6, False)


@every_plan
def test_search_rows_carry_the_access_status(services, admin, people):
    services.access.grant(admin, people["ada"])
    rows = {row.name: row for row in services.payers.search(admin, "")}
    assert rows["Ada Lovelace"].status == AccessStatus.INVITED
    assert rows["Alan Turing"].status == AccessStatus.NONE


# -- create and edit --------------------------------------------------------------------------


def _payer_count(db) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Payer)) or 0)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (PayerForm(name="Ada", email="not-an-address"), "Invalid email address"),
        (PayerForm(name="Ada", email="ada@"), "Invalid email address"),
        (PayerForm(name="x" * 201), "longer than 200"),
        (PayerForm(name=" \t "), "Name is required"),
        (PayerForm(name="\x1b\x07"), "Name is required"),
        (PayerForm(name="Ada", phone="call me"), "Invalid phone number"),
        (PayerForm(name="Ada", notes="n" * 5001), "Notes are longer"),
    ],
)
def test_create_refuses_bad_input_and_writes_nothing(services, admin, db, form, message):
    with pytest.raises(ValidationFailed, match=message) as refused:
        services.payers.create(admin, form)
    assert "\n" not in str(refused.value)
    assert _payer_count(db) == 0


def test_create_cleans_text_and_normalises_email(services, admin, db):
    detail = services.payers.create(
        admin,
        PayerForm(
            name="  Ada\x1b[31m Love\u202elace\x00 ",
            email=" Ada@Example.COM ",
            phone="+44 20 7946 0000 ext 12",
            notes="line one\r\nline\x07 two",
        ),
    )
    assert detail.name == "Ada[31m Lovelace"
    assert detail.email == "Ada@example.com"
    assert detail.notes == "line one\nline two"
    assert detail.version == 1
    with db.read() as session:
        payer = session.get(Payer, detail.id)
        assert (payer.sort_name, payer.email_key) == ("ada[31m lovelace", "ada@example.com")
        events = session.scalars(select(AuditEvent.action).where(AuditEvent.payer_id == detail.id))
        assert list(events) == ["payer.create"]


def test_update_saves_and_bumps_the_version(services, admin, db):
    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@x.example.com"))
    saved = services.payers.update(
        admin,
        payer.id,
        payer.version,
        PayerForm(name="Ada King", email="ada@x.example.com", phone="123"),
    )
    assert (saved.name, saved.phone, saved.version) == ("Ada King", "123", 2)
    unchanged = services.payers.update(
        admin,
        payer.id,
        saved.version,
        PayerForm(name="Ada King", email="ada@x.example.com", phone="123"),
    )
    assert unchanged.version == 2  # nothing changed, nothing written
    with db.read() as session:
        summaries = list(
            session.scalars(select(AuditEvent.summary).where(AuditEvent.action == "payer.update"))
        )
    assert summaries == ["Changed name, phone of Ada King"]


def test_update_refuses_bad_input_and_keeps_the_record(services, admin, db):
    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@x.example.com"))
    with pytest.raises(ValidationFailed):
        services.payers.update(admin, payer.id, 1, PayerForm(name="Ada", email="bad@"))
    assert services.payers.get(admin, payer.id) == payer


def test_update_of_a_missing_payer(services, admin):
    with pytest.raises(NotFound):
        services.payers.update(admin, 999, 1, PayerForm(name="Ghost"))
    with pytest.raises(NotFound):
        services.payers.get(admin, 999)


def test_concurrent_edit_is_refused_and_overwrites_nothing(services, admin, make_actor, db):
    from clientpay_tui.db.models import Role

    payer = services.payers.create(admin, PayerForm(name="Ada", email="ada@x.example.com"))
    bob = make_actor(Role.STAFF, "bob")
    carol = make_actor(Role.STAFF, "carol")
    # Both opened version 1; Bob saves first.
    services.payers.update(
        bob, payer.id, 1, PayerForm(name="Ada by Bob", email="ada@x.example.com")
    )

    with pytest.raises(StaleEdit, match="bob") as stale:
        services.payers.update(carol, payer.id, 1, PayerForm(name="Ada by Carol", notes="mine"))
    assert "Nothing was overwritten" in str(stale.value)

    current = services.payers.get(admin, payer.id)
    assert (current.name, current.notes, current.version) == ("Ada by Bob", None, 2)
    with db.read() as session:
        updates = session.scalar(select(func.count()).where(AuditEvent.action == "payer.update"))
    assert updates == 1


def test_two_sessions_saving_the_same_version_at_once(services, admin):
    """Both load version 1 and press Save together: exactly one wins, the other is told."""
    payer = services.payers.create(admin, PayerForm(name="Ada"))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def save(who: str) -> None:
        barrier.wait()
        try:
            services.payers.update(admin, payer.id, 1, PayerForm(name=f"Ada by {who}"))
            outcomes[who] = "saved"
        except Exception as error:  # the outcome is what the test checks
            outcomes[who] = error

    threads = [threading.Thread(target=save, args=(who,)) for who in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    winners = [who for who, outcome in outcomes.items() if outcome == "saved"]
    losers = [outcome for outcome in outcomes.values() if outcome != "saved"]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1 and isinstance(losers[0], StaleEdit), outcomes
    current = services.payers.get(admin, payer.id)
    assert (current.name, current.version) == (f"Ada by {winners[0]}", 2)


def test_names_sort_and_match_as_people_expect(services, admin):
    for name in ("Tom Baker", "Élodie Martin", "Emma Stone", "adam Smith", "Zoë Ångström"):
        services.payers.create(admin, PayerForm(name=name))
    assert _names(services.payers.search(admin, "")) == [
        "adam Smith",
        "Élodie Martin",
        "Emma Stone",
        "Tom Baker",
        "Zoë Ångström",
    ]
    assert _names(services.payers.search(admin, "elodie")) == ["Élodie Martin"]
    assert _names(services.payers.search(admin, "ÉLO")) == ["Élodie Martin"]
    assert _names(services.payers.search(admin, "zoe angs")) == ["Zoë Ångström"]
