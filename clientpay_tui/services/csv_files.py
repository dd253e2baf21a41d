"""Reading import files: CSV rows streamed from disk with their line numbers, the strict
formats of their cells (plain amounts, ``YYYY-MM-DD`` dates), and a spool that parks checked
rows on disk until the whole file has been checked.

A file is read as a stream, never whole, and its checked rows wait in a temporary file: an
import of any size costs memory only for what is needed to find duplicates.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import pickle
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

from clientpay_tui.errors import ImportFailed, ValidationFailed
from clientpay_tui.text import clean_text, one_line

MAX_CENTS = 10**13
"""Amounts up to 100 billion currency units."""
_AMOUNT = re.compile(r"(-?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?", re.ASCII)
"""Digits, optionally grouped by thousands with commas, and optional decimals. No sign but a
minus (refused with its own message), exponent, underscore, space or other digits."""
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
T = TypeVar("T")


@dataclass(frozen=True)
class BadRow:
    """A row that could not be read as a record (the wrong number of fields)."""

    message: str


class Spool(Generic[T]):
    """Checked rows parked in a private temporary file, ``batch`` at a time, then read back
    in batches of the same size for writing. Only this process reads what it wrote."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        try:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__
        except OSError as error:
            raise _spool_failed(error) from None
        self._pending: list[T] = []

    def add(self, item: T) -> None:
        self._pending.append(item)
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            try:
                pickle.dump(self._pending, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            except OSError as error:  # the temporary directory is full
                raise _spool_failed(error) from None
            self._pending = []

    def batches(self) -> Iterator[list[T]]:
        self._flush()
        try:
            self._file.seek(0)  # writes what is still buffered
        except OSError as error:
            raise _spool_failed(error) from None
        while True:
            try:
                yield pickle.load(self._file)  # noqa: S301 - our own temporary file
            except EOFError:
                return

    def __enter__(self) -> Spool[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # What could not be written (a full disk) is not needed any more.
        with contextlib.suppress(OSError):
            self._file.close()


def _spool_failed(error: OSError) -> ImportFailed:
    return ImportFailed(
        f"cannot keep the checked rows in a temporary file ({tempfile.gettempdir()}): "
        f"{error.strerror or error}; nothing imported"
    )


def digest(*parts: str) -> bytes:
    """A 16-byte key for a duplicate check: far smaller than the strings it stands for."""
    return hashlib.blake2b(
        "\x00".join(parts).encode("utf-8", "surrogatepass"), digest_size=16
    ).digest()


def read_rows(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str] | BadRow]]:
    """Yield ``(line number, row)`` pairs, streaming; refuse a file that is missing or
    malformed (:class:`ImportFailed`, naming the line)."""
    try:
        file = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ImportFailed(f"no such file: {path}") from None
    except IsADirectoryError:
        raise ImportFailed(f"{path} is a directory, not a CSV file") from None
    except OSError as error:
        raise ImportFailed(f"cannot read {path}: {error.strerror}") from None
    with file:
        try:
            yield from _parse(path, csv.reader(file, strict=True), required, optional)
        except UnicodeDecodeError:
            raise ImportFailed(
                f"{path}: line {_first_undecodable_line(path)} is not UTF-8 text"
            ) from None
        except OSError as error:
            raise ImportFailed(f"cannot read {path}: {error.strerror}") from None


def _parse(
    path: Path, reader: Iterator[list[str]], required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str] | BadRow]]:
    line_num = lambda: reader.line_num  # type: ignore[attr-defined]  # noqa: E731
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise ImportFailed(f"{path}: line 1: {error}") from None
    if not header:
        raise ImportFailed(f"{path} is empty: expected a header line with {', '.join(required)}")
    columns = [clean_text(name).lower() for name in header]
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportFailed(f"{path}: line 1: missing column(s) {', '.join(missing)}")
    unknown = [name for name in columns if name not in required + optional]
    if unknown:
        raise ImportFailed(
            f"{path}: line 1: unknown column(s) {', '.join(one_line(u, 40) for u in unknown)}"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ImportFailed(f"{path}: line 1: column(s) named more than once: {', '.join(repeated)}")
    line = line_num() + 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportFailed(f"{path}: line {line_num()}: {error}") from None
        start, line = line, line_num() + 1
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(columns):
            yield start, BadRow(f"expected {len(columns)} fields, found {len(record)}")
            continue
        yield start, dict(zip(columns, record, strict=True))


def _first_undecodable_line(path: Path) -> int:
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 1


def money(value: str, name: str) -> int:
    """A plain amount in currency units (``1234.50``, ``1,234.5``, ``12``) as cents."""
    found = _AMOUNT.fullmatch(value)
    shown = one_line(value, 40)
    if found is None:
        raise ValidationFailed(f"{name} {shown!r} is not an amount like 1234.50")
    sign, whole, decimals = found.groups()
    if decimals is not None and len(decimals) > 2:
        raise ValidationFailed(f"{name} {shown!r} must have at most two decimals")
    if sign:
        raise ValidationFailed(f"{name} {shown!r} must not be negative")
    digits = whole.replace(",", "").lstrip("0")
    if len(digits) > len(str(MAX_CENTS // 100)):
        raise ValidationFailed(f"{name} {shown!r} is too large")
    cents = int(digits or "0") * 100 + int((decimals or "").ljust(2, "0"))
    if cents > MAX_CENTS:
        raise ValidationFailed(f"{name} {shown!r} is too large")
    return cents


def iso_date(value: str, name: str) -> date:
    """A date written ``YYYY-MM-DD``, nothing else."""
    try:
        if _DATE.fullmatch(value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise ValidationFailed(f"{name} {one_line(value, 40)!r} is not a date like 2026-01-31")


def required(row: dict[str, str], name: str, limit: int) -> str:
    value = clean_text(row.get(name, ""))
    if not value:
        raise ValidationFailed(f"{name} is empty")
    if len(value) > limit:
        raise ValidationFailed(f"{name} is longer than {limit} characters")
    return value
