"""Changing a label's text without laying the whole screen out anew, when it still fits."""

from __future__ import annotations

from rich.cells import cell_len
from textual.content import Content
from textual.widgets import Static


def update_in_place(label: Static, text: str) -> None:
    """Show ``text`` in ``label``; lay the screen out only if it is wider than the label is.

    ``Static.update`` lays out the whole screen each time (the label's width may change): for
    a count under a table that was a third of a search's frame. A shorter text keeps the
    label's width until the next layout (it is padded, not shrunk). ``text`` is shown
    literally, never parsed as markup.
    """
    label.update(Content(text), layout=cell_len(text) > label.content_size.width)
