"""The typed query spec of CONTRACT.md: what an analyst may ask, validated before anything runs.

Extensions over the contract (all optional, old specs stay valid):

- ``joins``: ``{"dataset", "on", "how": "inner"|"left", "right_on"?, "alias"?}``. ``on`` is an
  entity column of the base dataset (or ``alias.column`` of an earlier join); the joined
  dataset's column is ``right_on``, or the column of the same name. Both must be entity
  columns of their dataset.
- column references: a plain name is a column of the base dataset; ``alias.column`` names a
  column of a joined dataset, where ``alias`` is the join's ``alias`` (default: its dataset id).
- ``group_by`` entries: a column reference, ``{"column", "trunc": "year"|"quarter"|"month"}``
  (key: first day of the period) or ``{"column", "bins": [edges...]}`` (key: a label such as
  ``"[10, 20)"``, ``"< 10"`` or ``">= 90"``).
- aggregates: also the quantiles ``p10 .. p90`` (discrete: a value that occurs).
- ``"totals": true``: margin rows over every subset of the group columns (a CUBE).

Every limit below is there against hostile specs; errors name the field, never a value.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_JOINS = 4
MAX_FILTERS = 50
MAX_GROUP_BY = 10
MAX_TOTALS_GROUP_BY = 4  # a CUBE has 2**k grouping sets
MAX_AGGREGATES = 20
MAX_IN_VALUES = 1000
MAX_SPEC_VALUES = 5000  # all filter values of one spec together
MAX_TEXT_VALUE = 200
MAX_BIN_EDGES = 100

ColumnName = Annotated[str, Field(min_length=1, max_length=200)]
DatasetId = Annotated[str, Field(min_length=1, max_length=64)]
Alias = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")]
Scalar = bool | int | float | Annotated[str, Field(max_length=MAX_TEXT_VALUE)]
FilterOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "between"]
AggregateName = Literal[
    "count",
    "count_rows",
    "sum",
    "mean",
    "median",
    "min",
    "max",
    "p10",
    "p20",
    "p25",
    "p30",
    "p40",
    "p60",
    "p70",
    "p75",
    "p80",
    "p90",
]
COLUMNLESS = ("count", "count_rows")
Trunc = Literal["year", "quarter", "month"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Filter(_Spec):
    column: ColumnName
    op: FilterOp
    value: Scalar | Annotated[list[Scalar], Field(max_length=MAX_IN_VALUES)]

    @model_validator(mode="after")
    def _value_fits_op(self) -> Filter:
        is_list = isinstance(self.value, list)
        if self.op == "in" and not (is_list and self.value):
            raise ValueError(f"filter on {self.column}: 'in' needs a non-empty list of values")
        if self.op == "between" and not (is_list and len(self.value) == 2):  # type: ignore[arg-type]
            raise ValueError(f"filter on {self.column}: 'between' needs a list of two values")
        if self.op not in ("in", "between") and is_list:
            raise ValueError(f"filter on {self.column}: '{self.op}' needs a single value")
        if any(isinstance(v, float) and not math.isfinite(v) for v in self.values):
            raise ValueError(f"filter on {self.column}: numbers must be finite")
        return self

    @property
    def values(self) -> list[Scalar]:
        """The filter's values as a list (one for eq..ge, two for between)."""
        return list(self.value) if isinstance(self.value, list) else [self.value]


class GroupBy(_Spec):
    """A group column, optionally truncated to a period or cut into numeric bins."""

    column: ColumnName
    trunc: Trunc | None = None
    bins: Annotated[list[float], Field(min_length=1, max_length=MAX_BIN_EDGES)] | None = None

    @model_validator(mode="after")
    def _one_transform(self) -> GroupBy:
        if self.trunc is not None and self.bins is not None:
            raise ValueError(f"group_by {self.column}: use either trunc or bins, not both")
        if self.bins is not None:
            if not all(math.isfinite(e) for e in self.bins):
                raise ValueError(f"group_by {self.column}: bin edges must be finite numbers")
            if any(a >= b for a, b in zip(self.bins, self.bins[1:], strict=False)):
                raise ValueError(f"group_by {self.column}: bin edges must be strictly increasing")
        return self

    @property
    def output_name(self) -> str:
        """The result column's name: the column, or ``column_quarter``, ``column_bin``."""
        if self.trunc is not None:
            return f"{self.column}_{self.trunc}"
        if self.bins is not None:
            return f"{self.column}_bin"
        return self.column


class Aggregate(_Spec):
    fn: AggregateName
    column: ColumnName | None = None

    @model_validator(mode="after")
    def _column_fits_fn(self) -> Aggregate:
        if self.fn in COLUMNLESS and self.column is not None:
            raise ValueError(f"aggregate {self.fn} takes no column")
        if self.fn not in COLUMNLESS and self.column is None:
            raise ValueError(f"aggregate {self.fn} needs a column")
        return self

    @property
    def output_name(self) -> str:
        """``fn`` or ``fn_column`` (``count``, ``sum_amount``)."""
        return self.fn if self.column is None else f"{self.fn}_{self.column}"


class Join(_Spec):
    dataset: DatasetId
    on: ColumnName
    how: Literal["inner", "left"] = "inner"
    right_on: ColumnName | None = None
    alias: Alias | None = None

    @property
    def name(self) -> str:
        """How column references address this join: its alias, else its dataset id."""
        return self.alias or self.dataset


class QuerySpec(_Spec):
    dataset: DatasetId
    joins: Annotated[list[Join], Field(max_length=MAX_JOINS)] = []
    filters: Annotated[list[Filter], Field(max_length=MAX_FILTERS)] = []
    group_by: Annotated[list[ColumnName | GroupBy], Field(max_length=MAX_GROUP_BY)] = []
    aggregates: Annotated[list[Aggregate], Field(min_length=1, max_length=MAX_AGGREGATES)]
    totals: bool = False
    # Pin a dataset (base or joined) to one of its versions; the latest otherwise.
    dataset_versions: Annotated[
        dict[DatasetId, Annotated[int, Field(ge=1)]], Field(max_length=MAX_JOINS + 1)
    ] = {}

    @model_validator(mode="after")
    def _no_duplicates(self) -> QuerySpec:
        groups = [g.output_name for g in self.groups]
        if len(set(groups)) != len(groups):
            raise ValueError("group_by names a column twice")
        names = [a.output_name for a in self.aggregates]
        if len(set(names)) != len(names):
            raise ValueError("the same aggregate is asked twice")
        if set(groups) & set(names):
            raise ValueError("a group column and an aggregate have the same output name")
        joins = [j.name for j in self.joins]
        if len(set(joins)) != len(joins):
            raise ValueError("joins: two joins have the same name; give one an alias")
        if self.totals and len(self.group_by) > MAX_TOTALS_GROUP_BY:
            raise ValueError(f"totals: at most {MAX_TOTALS_GROUP_BY} group_by columns")
        if sum(len(f.values) for f in self.filters) > MAX_SPEC_VALUES:
            raise ValueError(f"filters: at most {MAX_SPEC_VALUES} values in all")
        return self

    @property
    def groups(self) -> list[GroupBy]:
        """Every group_by entry as a :class:`GroupBy` (plain names have no transform)."""
        return [g if isinstance(g, GroupBy) else GroupBy(column=g) for g in self.group_by]

    @property
    def output_columns(self) -> list[str]:
        """Result columns: group columns in order, then one per aggregate."""
        return [*(g.output_name for g in self.groups), *(a.output_name for a in self.aggregates)]
