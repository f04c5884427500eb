"""Rows that fail validation: row numbers, columns and reasons, never values."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_MAX_ENTRIES", "QuarantineEntry", "QuarantineReport"]

DEFAULT_MAX_ENTRIES = 1000


@dataclass(frozen=True)
class QuarantineEntry:
    """One failed cell: ``row`` counts data rows from 1 (the header is not a row)."""

    row: int
    column: str
    reason: str


@dataclass
class QuarantineReport:
    """What failed validation in an upload; ``entries`` keeps the first ``max_entries``."""

    total_rows: int = 0
    rejected_rows: int = 0
    entries: list[QuarantineEntry] = field(default_factory=list)
    truncated: bool = False
    max_entries: int = DEFAULT_MAX_ENTRIES
    by_column: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float:
        """Rejected rows as a share (0..1) of all data rows."""
        return self.rejected_rows / self.total_rows if self.total_rows else 0.0

    def add(self, row: int, column: str, reason: str) -> None:
        """Record one failed cell (the row count is the caller's: a row may fail twice)."""
        self.by_column[column] = self.by_column.get(column, 0) + 1
        if len(self.entries) < self.max_entries:
            self.entries.append(QuarantineEntry(row, column, reason))
        else:
            self.truncated = True

    def summary(self) -> str:
        """A one-line description naming columns and counts only."""
        columns = ", ".join(f"{name!r} ({count})" for name, count in self.by_column.items())
        return f"{self.rejected_rows} of {self.total_rows} rows failed validation" + (
            f" in columns {columns}" if columns else ""
        )

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form for API answers."""
        return {
            "total_rows": self.total_rows,
            "rejected_rows": self.rejected_rows,
            "share": round(self.share, 6),
            "truncated": self.truncated,
            "by_column": dict(self.by_column),
            "entries": [
                {"row": e.row, "column": e.column, "reason": e.reason} for e in self.entries
            ],
        }
