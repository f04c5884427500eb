"""The input of disclosure control: one table of per-cell statistics per query result.

The query engine fills these in one pass over the data; rows never reach the
anonymiser, only what each rule needs per cell: the distinct-entity count, the
largest per-entity contributions (dominance), how many entities lie on each side
of an order statistic, an entity-set sketch per row (differencing) and, for
differential privacy, the bounded value. Margin rows carry :data:`TOTAL` in the
group columns they sum over.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = ["TOP_CONTRIBUTORS", "TOTAL", "AggregateFn", "CellStats", "CellTable", "Total"]

# How many of the largest per-entity contributions the engine reports per cell:
# enough for the (n,k) rule with n up to 10 and for the p% rule (top two).
TOP_CONTRIBUTORS: Final = 10

_QUANTILES = {
    "min": 0.0,
    "p10": 0.1,
    "p20": 0.2,
    "p25": 0.25,
    "p30": 0.3,
    "p40": 0.4,
    "median": 0.5,
    "p60": 0.6,
    "p70": 0.7,
    "p75": 0.75,
    "p80": 0.8,
    "p90": 0.9,
    "max": 1.0,
}


class AggregateFn(StrEnum):
    """Aggregate functions an output cell can hold."""

    COUNT = "count"  # distinct entities
    COUNT_ROWS = "count_rows"
    SUM = "sum"
    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"
    P10 = "p10"
    P20 = "p20"
    P25 = "p25"
    P30 = "p30"
    P40 = "p40"
    P60 = "p60"
    P70 = "p70"
    P75 = "p75"
    P80 = "p80"
    P90 = "p90"

    @property
    def is_extreme(self) -> bool:
        """Whether the value is a single entity's own value (min/max)."""
        return self in (AggregateFn.MIN, AggregateFn.MAX)

    @property
    def quantile(self) -> float | None:
        """The quantile an order statistic estimates (min 0, median 0.5, max 1); else None."""
        return _QUANTILES.get(self.value)

    @property
    def is_order_statistic(self) -> bool:
        """Min, max, median and quantiles: values that are some entity's own value."""
        return self.quantile is not None

    @property
    def is_magnitude(self) -> bool:
        """Sum and mean: values built from per-entity contributions (dominance applies)."""
        return self in (AggregateFn.SUM, AggregateFn.MEAN)

    @property
    def is_additive(self) -> bool:
        """Counts and sums: a margin is the sum of its parts (secondary suppression applies)."""
        return self in (AggregateFn.COUNT, AggregateFn.COUNT_ROWS, AggregateFn.SUM)


class Total:
    """The group-key marker of a margin row: "all values of this column"."""

    _instance: Total | None = None

    def __new__(cls) -> Total:
        """One shared marker, so ``key is TOTAL`` works."""
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        """Readable in reports and test failures."""
        return "TOTAL"


TOTAL: Final = Total()


@dataclass(frozen=True)
class CellStats:
    """Statistics of one output cell: its value and who stands behind it.

    ``entities`` counts distinct entities (people, companies...), never rows:
    one person with fifty rows counts once, also across joined datasets.

    ``top`` holds the largest per-entity absolute contributions to the cell's
    total, descending (at most :data:`TOP_CONTRIBUTORS`; all of them when fewer
    entities contribute) and ``total`` the sum of all absolute per-entity
    contributions; both only for sums and means. ``at_or_below`` and
    ``at_or_above`` count distinct entities whose value is <= and >= the
    released value; only for order statistics. ``dp_value`` is the value
    computed under the differential-privacy contribution bounds, when asked.
    A field the engine did not fill is None or empty; rules that need it then
    suppress (when in doubt, suppress).
    """

    row: int
    column: str
    fn: AggregateFn
    value: float | int | None
    entities: int
    top: tuple[float, ...] = ()
    total: float | None = None
    at_or_below: int | None = None
    at_or_above: int | None = None
    dp_value: float | None = None

    @property
    def key(self) -> tuple[int, str]:
        """The cell's position: result row and output column."""
        return (self.row, self.column)


@dataclass(frozen=True)
class CellTable:
    """All cells of one result: group keys per row and one cell per (row, aggregate).

    ``sensitive`` names group columns whose values are sensitive categories
    (class disclosure). ``sketches`` holds one entity-set sketch per row
    (see :mod:`anonymiser.differencing`), or is empty when not computed.
    ``max_cells_per_entity`` is the largest number of rows one entity appears
    in (its L0 contribution), when computed.
    """

    group_columns: tuple[str, ...]
    value_columns: tuple[str, ...]
    keys: tuple[tuple[object, ...], ...]
    cells: tuple[CellStats, ...] = field(default=())
    sensitive: frozenset[str] = frozenset()
    sketches: tuple[object, ...] = ()
    max_cells_per_entity: int | None = None

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
        if self.sketches and len(self.sketches) != len(self.keys):
            raise ValueError("sketches must hold one entry per row")
        if not self.sensitive <= set(self.group_columns):
            raise ValueError("sensitive columns must be group columns")

    def __iter__(self) -> Iterator[CellStats]:
        """Iterate over the cells."""
        return iter(self.cells)

    def __len__(self) -> int:
        """Number of cells."""
        return len(self.cells)

    def is_margin(self, row: int) -> bool:
        """Whether a row is a margin (some group key is :data:`TOTAL`)."""
        return any(v is TOTAL for v in self.keys[row])
