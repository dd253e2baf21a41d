"""clean_text / printable / one_line over arbitrary Unicode, surrogates included."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from clientpay_tui.text import clean_text, one_line, printable

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)
"""Every code point, lone surrogates too: what a buggy decoder or a hostile caller can pass."""
HOSTILE_PIECES = st.sampled_from(
    [
        "\x1b[31m",
        "\x1b]8;;http://evil/\x07",
        "\x9b2J",
        "\x00",
        "\r\n",
        "\u202e",
        "\u2066",
        "e\u0301",
        "\x00\u0301",
        "[bold red]x[/]",
        "[@click=app.quit]",
        "%_\\",
        "\ud800",
        "\ufeff",
    ]
)
MIXED = st.lists(st.one_of(ANY_TEXT, HOSTILE_PIECES), max_size=6).map("".join)


def _has_control(value: str, *, keep: str = "") -> bool:
    return any((ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F) and c not in keep for c in value)


@settings(max_examples=400, deadline=None)
@given(MIXED, st.booleans())
def test_clean_text_output_is_storable_normalised_and_stable(value, multiline):
    cleaned = clean_text(value, multiline=multiline)
    assert not _has_control(cleaned, keep="\n\t" if multiline else "")
    assert not any(c in cleaned for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    assert unicodedata.is_normalized("NFC", cleaned)
    cleaned.encode("utf-8")  # storable on SQLite and PostgreSQL alike
    assert clean_text(cleaned, multiline=multiline) == cleaned
    assert cleaned == cleaned.strip()


@settings(max_examples=300, deadline=None)
@given(MIXED)
def test_display_helpers_never_pass_a_control_character(value):
    assert not _has_control(printable(value))
    assert not _has_control(printable(value, multiline=True), keep="\n\t")
    line = one_line(value, limit=40)
    assert not _has_control(line) and len(line) <= 40
