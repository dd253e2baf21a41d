"""The add-associations search over five fields with arbitrary text: it never raises, and it
finds exactly what the rule says (substring of client name or matter description, prefix of
client, matter or invoice number), ``%`` and ``_`` literal."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clientpay_tui.db.models import Client, Invoice, InvoiceSource, Matter
from clientpay_tui.services.candidates import CandidateFilter
from clientpay_tui.services.validation import number_key, search_key
from clientpay_tui.text import clean_text

from .conftest import overlapping_text

_serial = itertools.count()


def _add(services, client_name: str, number: str, description: str) -> None:
    """One client, matter and invoice whose texts are the given (cleaned) strings."""
    n = next(_serial)
    client_number, matter_number = f"{number}{n}", f"{number}m{n}"
    invoice_number = f"{number}i{n}"
    with services.db.write() as session:
        client = Client(
            number=client_number,
            number_key=number_key(client_number),
            name=client_name,
            name_key=search_key(client_name),
        )
        session.add(client)
        session.flush()
        matter = Matter(
            client_id=client.id,
            number=matter_number,
            number_key=number_key(matter_number),
            description=description,
            description_key=search_key(description),
        )
        session.add(matter)
        session.flush()
        session.add(
            Invoice(
                client_id=client.id,
                matter_id=matter.id,
                number=invoice_number,
                number_key=number_key(invoice_number),
                invoice_date=date(2026, 1, 1),
                amount_cents=100,
                balance_cents=100,
                source=InvoiceSource.CONNECT,
            )
        )


def _expected(services, text: str) -> set[int]:
    key, number = search_key(text), number_key(text)
    with services.db.read() as session:
        rows = session.execute(
            select(
                Invoice.id,
                Invoice.number_key,
                Client.number_key,
                Client.name_key,
                Matter.number_key,
                Matter.description_key,
            )
            .join(Client, Client.id == Invoice.client_id)
            .join(Matter, Matter.id == Invoice.matter_id)
        ).all()
    return {
        row[0]
        for row in rows
        if not key
        # An invoice number by any part (from three characters; shorter: its start).
        or (number in row[1] if len(number) >= 3 else row[1].startswith(number))
        or row[2].startswith(number)
        or key in row[3]
        or row[4].startswith(number)
        or key in row[5]
    }


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(st.tuples(overlapping_text, overlapping_text, overlapping_text), max_size=4),
    text=overlapping_text,
)
def test_candidate_search_finds_exactly_what_the_rule_says(services, admin, rows, text):
    for name, number, description in rows:
        name, number = clean_text(name)[:150] or "x", clean_text(number)[:20] or "n"
        _add(services, name, number, clean_text(description)[:400])
    expected = _expected(services, text)
    event("some match" if expected else "no match")
    where = CandidateFilter(text=text)
    found = {row.invoice_id for row in services.associations.candidates(admin, where, limit=10_000)}
    assert found == expected
    assert services.associations.count_candidates(admin, where) == (len(expected), False)
    # The column filters take the same text without raising.
    services.associations.candidates(admin, CandidateFilter(client=text, matter=text))


@pytest.mark.parametrize(
    ("text", "expected_clients"),
    [
        ("%", {"100% Widgets"}),
        ("_", {"Under_score Ltd"}),
        ("0%", {"100% Widgets"}),
        ("r_s", {"Under_score Ltd"}),
        ("\\", {"Back\\slash"}),
    ],
)
def test_percent_and_underscore_match_literally_in_candidate_search(
    services, admin, text, expected_clients
):
    for name in ("100% Widgets", "Under_score Ltd", "Undersscore", "Back\\slash", "Plain Co"):
        _add(services, name, "C", "work")
    rows = services.associations.candidates(admin, CandidateFilter(text=text))
    assert {row.client_name for row in rows} == expected_clients


def test_a_number_holding_the_last_code_point_still_matches_its_prefix(services, admin):
    _add(services, "Edge", "A\U0010ffff", "edge")
    rows = services.associations.candidates(admin, CandidateFilter(text="a"))
    assert [row.client_name for row in rows] == ["Edge"]


@pytest.mark.parametrize(
    ("prefix", "upper"),
    [
        ("ab", "ac"),
        ("a\U0010ffff", "b"),
        ("\U0010ffff\U0010ffff", None),
        ("\ud7ff", "\ue000"),
        ("", None),
    ],
)
def test_prefix_successor(prefix, upper):
    from clientpay_tui.db.search_index import prefix_successor

    assert prefix_successor(prefix) == upper
