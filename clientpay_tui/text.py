"""Plain-text hygiene for values that come from people, files and the database.

Terminal escape codes must never reach the terminal and never be stored: they are removed when
data enters (``clean_text``) and replaced by visible symbols when shown (``printable``), so data
written by an older version or another tool is still safe to display.
"""

from __future__ import annotations

import re
import unicodedata

# C0 controls but TAB and LF, DEL, and the C1 range (0x80-0x9f includes CSI 0x9b).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Bidirectional overrides and isolates: they can make a name read differently from its bytes.
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Lone surrogates: no UTF-8 encoder (database driver, terminal) accepts them.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """Normalise a value before it is stored: NFC, no control, bidi-override or lone
    surrogate characters, no outer spaces.

    Args:
        value: the text as typed or read from a file.
        multiline: keep line feeds and tabs (notes); otherwise they become spaces.
    """
    value = _BIDI.sub("", _SURROGATE.sub("", value))
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        value = _CONTROL.sub("", value)
    else:
        value = _CONTROL_ANY.sub("", re.sub(r"[\t\r\n]+", " ", value))
    # NFC last: removing a character can leave a letter next to a combining mark it now joins.
    return unicodedata.normalize("NFC", value).strip()


def printable(value: object, *, multiline: bool = False) -> str:
    """Text safe to hand to a terminal widget: each control character becomes ``�``.

    Markup is a separate concern: callers still wrap the result in ``rich.text.Text`` or pass
    ``markup=False``.

    Args:
        value: anything; ``None`` becomes an empty string.
        multiline: keep line feeds and tabs.
    """
    text = "" if value is None else str(value)
    text = _SURROGATE.sub("\ufffd", _BIDI.sub("\ufffd", text))
    return (_CONTROL if multiline else _CONTROL_ANY).sub("\ufffd", text)


def one_line(value: object, limit: int = 200) -> str:
    """A printable, single-line, length-limited rendering (toasts, logs, CLI errors)."""
    text = printable(str(value).replace("\n", " ").replace("\r", " "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: float, noun: str, plural_noun: str | None = None) -> str:
    """``1 hour``, ``2 hours``, ``1.5 hours``; ``plural_noun`` for irregular nouns."""
    word = noun if count == 1 else (plural_noun or f"{noun}s")
    # "g" alone turns a million into "1e+06": whole numbers are written out in full.
    number = f"{int(count):,}" if float(count).is_integer() else f"{count:,g}"
    return f"{number} {word}"
