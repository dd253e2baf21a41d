"""Payer names, emails and notes from arbitrary Unicode: stored as typed (after clean_text),
refused in one line when they cannot be, and found by search with ``%`` and ``_`` literal."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from clientpay_tui.db.models import Payer
from clientpay_tui.errors import ValidationFailed
from clientpay_tui.services import validation
from clientpay_tui.services.payers import PayerForm
from clientpay_tui.text import clean_text

from .conftest import emailish, hostile_text, overlapping_text

DB_SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@DB_SETTINGS
@given(name=hostile_text, email=emailish, notes=hostile_text)
def test_a_payer_comes_back_as_stored(services, admin, name, email, notes):
    form = PayerForm(name=name, email=email, notes=notes)
    expected_name = clean_text(name)
    try:
        expected_email = validation.email_address(email)
    except ValidationFailed:
        expected_email = "invalid"
    try:
        created = services.payers.create(admin, form)
    except ValidationFailed as refused:
        message = str(refused)
        assert message and "\n" not in message and "\x1b" not in message
        assert not expected_name or len(expected_name) > 200 or expected_email == "invalid"
        event("refused")
        return
    event("stored")
    assert expected_email != "invalid"
    got = services.payers.get(admin, created.id)
    assert got.name == expected_name
    assert got.email == (expected_email[0] if expected_email else None)
    assert got.notes == (clean_text(notes, multiline=True) or None)
    # What the list shows, and what a second save of the unchanged form does: nothing.
    assert services.payers.update(admin, got.id, got.version, form).version == got.version
    assert any(row.id == got.id for row in services.payers.search(admin, got.name, limit=500))


@DB_SETTINGS
@given(names=st.lists(overlapping_text, min_size=1, max_size=6), needle=overlapping_text)
def test_payer_search_finds_exactly_the_names_that_contain_the_text(services, admin, names, needle):
    for name in names:
        if clean_text(name):
            services.payers.create(admin, PayerForm(name=name))
    key = validation.search_key(needle)
    with services.db.read() as session:
        everyone = session.execute(select(Payer.id, Payer.sort_name, Payer.email_key)).all()
    expected = {
        pid
        for pid, sort_name, email_key in everyone
        if key in sort_name or key in (email_key or "")
    }
    event("some match" if expected else "no match")
    found = {row.id for row in services.payers.search(admin, needle, limit=10_000)}
    assert found == expected
    assert services.payers.count(admin, needle) == (len(expected), False)


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("%", {"100% sure", "50%"}),
        ("_", {"a_b", "x__y"}),
        ("a_b", {"a_b"}),
        ("0%", {"100% sure", "50%"}),
        ("\\", {"back\\slash"}),
        ('"', {'say "hi"'}),
        ("%%", set()),
        ("__", {"x__y"}),
    ],
)
def test_percent_and_underscore_match_literally_in_payer_search(services, admin, needle, expected):
    for name in ("100% sure", "50%", "a_b", "axb", "x__y", "back\\slash", 'say "hi"', "plain"):
        services.payers.create(admin, PayerForm(name=name))
    assert {row.name for row in services.payers.search(admin, needle)} == expected
