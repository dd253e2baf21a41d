"""Strategies for hostile input, shared by the property tests in this folder."""

from __future__ import annotations

from hypothesis import strategies as st

HOSTILE_PIECES = [
    "%",
    "_",
    "\\",
    '"',
    "'",
    "%_",
    "100%",
    "a_b",
    "[b]x[/]",
    "[@click=app.quit]",
    "\x1b[2J",
    "\x00",
    "\u202e",
    "e\u0301",
    "ß",
    "İ",
    "Ǆ",
    "ﬃ",
    "\ufeff",
    "\U0010ffff",
    "\ufffd",
    "\ud800",
    "O'Brien-Smith",
    "NEAR",
    "AND",
    "*",
    ":",
    "{",
    "}",
    "^",
    "(",
    " ",
    "\t",
    "\n",
    "😀",
    "中文",
]
ANY_CHAR = st.characters(codec=None, exclude_categories=())
"""Every code point, lone surrogates included."""
SMALL_ALPHABET = st.sampled_from([*"abAB%_\\\"' éÉß", "e\u0301", "\U0010ffff"])
"""Few characters, so that generated names and search text overlap often."""

hostile_text = st.lists(
    st.one_of(st.text(ANY_CHAR, max_size=12), st.sampled_from(HOSTILE_PIECES)), max_size=6
).map("".join)
overlapping_text = st.lists(
    st.one_of(SMALL_ALPHABET, st.sampled_from(HOSTILE_PIECES)), min_size=0, max_size=6
).map("".join)
emailish = st.one_of(
    st.emails(),
    st.builds(lambda local, rest: f"{local}@{rest}", overlapping_text, st.emails()),
    hostile_text,
)
