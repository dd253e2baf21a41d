"""What a table's staff member has selected: rows picked one by one, or every row a query
finds (on every page) but some. The query is whatever the screen's service reads (the add
screen's invoice filter, the payer list's search and status filter)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, Self, TypeVar

QueryT = TypeVar("QueryT")


@dataclass(frozen=True)
class Picked(Generic[QueryT]):
    ids: frozenset[int] = frozenset()
    matching: QueryT | None = None
    """Select-all: every row this query finds …"""
    matching_count: int | None = None
    """How many rows ``matching`` selects (``None`` while it is being counted)."""
    excluded: frozenset[int] = frozenset()
    """… except these, unselected afterwards."""

    @property
    def is_empty(self) -> bool:
        return self.matching is None and not self.ids

    def has(self, row_id: int) -> bool:
        if self.matching is not None:
            return row_id not in self.excluded
        return row_id in self.ids

    def toggled(self, row_id: int) -> Self:
        if self.matching is not None:
            return replace(self, excluded=self.excluded ^ {row_id})
        return replace(self, ids=self.ids ^ {row_id})

    def summary(self) -> str:
        if self.matching is None:
            return f"{len(self.ids):,} selected"
        if self.matching_count is None:
            return "All matching selected (counting…)"
        return f"{max(self.matching_count - len(self.excluded), 0):,} selected (all matching)"
