"""Textual stylesheets (.tcss), installed as package data of ``clientpay_tui.styles``.

Screens name their stylesheet with :func:`stylesheet`: a relative ``CSS_PATH`` would resolve
against the screen's module file, which sits in another directory once installed.
"""

from __future__ import annotations

from importlib.resources import files


def stylesheet(name: str) -> str:
    """The absolute path of the stylesheet ``name`` (e.g. ``"payer_list.tcss"``)."""
    return str(files(__name__) / name)
