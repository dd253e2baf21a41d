"""Fitting the terminal the app finds itself in: 16 colours, a locale that is not UTF-8, and
a screenshot that lands somewhere the staff member can be told about.

Staff reach the app over SSH from whatever terminal they have: ``TERM=xterm`` (16 colours,
where the theme's near shades all become colour 8), ``LANG`` unset or ``C`` (OpenSSH passes
no locale unless ``SendEnv``/``AcceptEnv`` say so).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from textual.app import App, SystemCommand

from clientpay_tui.early_settings import data_dir

LOW_COLOUR_CLASS = "-ansi16"
"""Set on the app in a 16-colour terminal: ``app.tcss`` draws placeholders and focus so that
they survive the reduction to 16 colours."""


def low_colour(console: Console) -> bool:
    """The terminal has 16 colours (``TERM=xterm`` without ``COLORTERM``, or Windows')."""
    return console.color_system in ("standard", "windows")


def locale_advice(environ: Mapping[str, str] = os.environ) -> str | None:
    """One line saying what to set when the locale the terminal was given is not UTF-8
    (``None`` when it is). Python itself writes UTF-8 under ``C``/``POSIX`` (PEP 538/540),
    but a terminal started in that locale may draw the lines and marks as garbage."""
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = environ.get(name)
        if value:
            break
    else:
        name, value = "LANG", ""
    charset = value.partition(".")[2].partition("@")[0].replace("-", "").casefold()
    if charset == "utf8":
        return None
    shown = f"{name}={value}" if value else "no LANG"
    return (
        f"The terminal's locale ({shown}) is not UTF-8: if lines look broken, set "
        f"{name}=C.UTF-8 (or another .UTF-8 locale)."
    )


def screenshots_dir() -> Path:
    return data_dir() / "screenshots"


def save_screenshot(app: App[Any]) -> Path:
    """The current screen as SVG in the user data directory (never the working directory:
    over SSH that is wherever the server started the app)."""
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"screen-{datetime.now(UTC):%Y%m%d-%H%M%S}.svg"
    path.write_text(app.export_screenshot(), encoding="utf-8")
    return path


def system_commands(app: App[Any], builtin: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """Textual's palette commands, with its Screenshot (which saves into the working
    directory without saying where) replaced by one that saves into the user data directory
    and says so."""
    for command in builtin:
        if command.title != "Screenshot":
            yield command
    yield SystemCommand(
        "Screenshot",
        f"Save an SVG picture of this screen in {screenshots_dir()}",
        lambda: app.call_after_refresh(_screenshot, app),
    )


def _screenshot(app: App[Any]) -> None:
    try:
        path = save_screenshot(app)
    except OSError as error:
        app.notify(f"No screenshot: {error}", severity="error", markup=False)
        return
    app.notify(f"Screenshot saved to {path}", markup=False, timeout=8)
