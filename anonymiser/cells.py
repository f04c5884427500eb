"""The input of disclosure control: one table of per-cell statistics per query result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["AggregateFn", "CellStats", "CellTable"]


class AggregateFn(StrEnum):
    """Aggregate functions an output cell can hold."""

    COUNT = "count"  # distinct entities
    COUNT_ROWS = "count_rows"
    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"

    @property
    def is_extreme(self) -> bool:
        """Whether the value is a single entity's own value (min/max)."""
        return self in (AggregateFn.MIN, AggregateFn.MAX)


@dataclass(frozen=True)
class CellStats:
    """Statistics of one output cell: its value and who stands behind it.

    ``entities`` counts distinct entities (people, companies...), never rows:
    one person with fifty rows counts once.
    """

    row: int
    column: str
    fn: AggregateFn
    value: float | int | None
    entities: int

    @property
    def key(self) -> tuple[int, str]:
        """The cell's position: result row and output column."""
        return (self.row, self.column)


@dataclass(frozen=True)
class CellTable:
    """All cells of one result: group keys per row and one cell per (row, aggregate)."""

    group_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    keys: tuple[tuple[object, ...], ...]
    cells: tuple[CellStats, ...] = field(default=())

    def __post_init__(self) -> None:
        """Reject cells that point outside the table."""
        width = len(self.group_columns)
        for key in self.keys:
            if len(key) != width:
                raise ValueError("every group key must have one value per group column")
        known = set(self.value_columns)
        for cell in self.cells:
            if not 0 <= cell.row < len(self.keys) or cell.column not in known:
                raise ValueError("cell outside the table")

    def __iter__(self) -> Iterator[CellStats]:
        """Iterate over the cells."""
        return iter(self.cells)

    def __len__(self) -> int:
        """Number of cells."""
        return len(self.cells)
