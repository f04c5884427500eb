"""The typed query spec of CONTRACT.md: what an analyst may ask, validated before anything runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_FILTERS = 50
MAX_GROUP_BY = 10
MAX_AGGREGATES = 20
MAX_IN_VALUES = 1000
MAX_TEXT_VALUE = 200

ColumnName = Annotated[str, Field(min_length=1, max_length=128)]
Scalar = bool | int | float | Annotated[str, Field(max_length=MAX_TEXT_VALUE)]
FilterOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "between"]
AggregateName = Literal["count", "count_rows", "sum", "mean", "median", "min", "max"]
COLUMNLESS = ("count", "count_rows")


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
        return self

    @property
    def values(self) -> list[Scalar]:
        return list(self.value) if isinstance(self.value, list) else [self.value]


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
        return self.fn if self.column is None else f"{self.fn}_{self.column}"


class Join(_Spec):
    dataset: Annotated[str, Field(min_length=1, max_length=64)]
    on: ColumnName


class QuerySpec(_Spec):
    dataset: Annotated[str, Field(min_length=1, max_length=64)]
    joins: Annotated[list[Join], Field(max_length=4)] = []
    filters: Annotated[list[Filter], Field(max_length=MAX_FILTERS)] = []
    group_by: Annotated[list[ColumnName], Field(max_length=MAX_GROUP_BY)] = []
    aggregates: Annotated[list[Aggregate], Field(min_length=1, max_length=MAX_AGGREGATES)]

    @model_validator(mode="after")
    def _no_duplicates(self) -> QuerySpec:
        if len(set(self.group_by)) != len(self.group_by):
            raise ValueError("group_by names a column twice")
        names = [a.output_name for a in self.aggregates]
        if len(set(names)) != len(names):
            raise ValueError("the same aggregate is asked twice")
        return self

    @property
    def output_columns(self) -> list[str]:
        return [*self.group_by, *(a.output_name for a in self.aggregates)]
