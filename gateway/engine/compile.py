"""Compile a :class:`QuerySpec` against a dataset schema into parameterised SQL (via sqlglot).

User input never reaches SQL as text: column names are checked against the
schema and quoted by sqlglot, values travel as bound parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlglot import exp

from gateway.core.errors import BadInput
from gateway.engine.spec import Aggregate, Filter, QuerySpec, Scalar

TABLE = "dataset"
NUMERIC = ("integer", "float")
ORDERABLE = (*NUMERIC, "date", "timestamp")
_SQL_TYPE = {
    "integer": "BIGINT",
    "float": "DOUBLE",
    "string": "VARCHAR",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}
_SIMPLE = ("count", "count_rows", "sum", "mean", "median", "min", "max")
_COMPARE = {"eq": exp.EQ, "ne": exp.NEQ, "lt": exp.LT, "le": exp.LTE, "gt": exp.GT, "ge": exp.GTE}


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    role: str


@dataclass(frozen=True)
class CompiledQuery:
    sql: str
    params: list[Scalar]
    group_columns: list[str]
    aggregates: list[Aggregate]


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _lookup(schema: dict[str, ColumnInfo], name: str, where: str) -> ColumnInfo:
    info = schema.get(name)
    if info is None:
        raise BadInput(f"{where}: the dataset has no column {name}")
    return info


def _check_value(info: ColumnInfo, value: Scalar) -> Scalar:
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, str) and _is_iso_date(value),
        "timestamp": isinstance(value, str) and _is_iso_date(value[:10]),
    }.get(info.type, False)
    if not ok:
        expected = "an ISO date (YYYY-MM-DD)" if info.type in ("date", "timestamp") else info.type
        raise BadInput(f"filter on {info.name}: the value must be {expected}")
    return value


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _condition(f: Filter, info: ColumnInfo, params: list[Scalar]) -> exp.Expr:
    if f.op in ("lt", "le", "gt", "ge", "between") and info.type not in ORDERABLE:
        raise BadInput(f"filter on {f.column}: '{f.op}' needs a numeric or date column")

    def bind(value: Scalar) -> exp.Expr:
        params.append(_check_value(info, value))
        return exp.Cast(this=exp.Placeholder(), to=exp.DataType.build(_SQL_TYPE[info.type]))

    column = _col(f.column)
    if f.op == "in":
        return exp.In(this=column, expressions=[bind(v) for v in f.values])
    if f.op == "between":
        low, high = f.values
        return exp.Between(this=column, low=bind(low), high=bind(high))
    return _COMPARE[f.op](this=column, expression=bind(f.values[0]))


def _aggregate(
    agg: Aggregate, schema: dict[str, ColumnInfo], entity: str
) -> tuple[exp.Expr, exp.Expr]:
    """The aggregate's SQL and the distinct-entity count behind it."""
    entities = exp.Count(this=exp.Distinct(expressions=[_col(entity)]))
    if agg.fn == "count":
        return entities, entities
    if agg.fn == "count_rows":
        return exp.Count(this=exp.Star()), entities
    assert agg.column is not None
    info = _lookup(schema, agg.column, f"aggregate {agg.fn}")
    allowed = ORDERABLE if agg.fn in ("min", "max") else NUMERIC
    if info.type not in allowed:
        raise BadInput(f"aggregate {agg.fn} on {agg.column}: needs a numeric column")
    column = _col(agg.column)
    fn = {"sum": exp.Sum, "mean": exp.Avg, "median": exp.Median, "min": exp.Min, "max": exp.Max}
    # Only entities with a value in the column stand behind the number.
    contributing = exp.Count(
        this=exp.Distinct(
            expressions=[
                exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.Not(this=exp.Is(this=column, expression=exp.Null())),
                            true=_col(entity),
                        )
                    ]
                )
            ]
        )
    )
    return fn[agg.fn](this=column), contributing


def compile_query(spec: QuerySpec, schema: dict[str, ColumnInfo], entity: str) -> CompiledQuery:
    """Build ``SELECT groups, (value, entities) per aggregate ... GROUP BY groups``."""
    if entity not in schema:
        raise BadInput("the dataset declares no usable entity column")
    # This single-dataset path predates gateway.engine.runner, which handles the rest.
    if spec.totals or any(not isinstance(g, str) for g in spec.group_by):
        raise BadInput("group_by: bins, trunc and totals need the new query engine")
    if any(a.fn not in _SIMPLE for a in spec.aggregates):
        raise BadInput("aggregates: quantiles need the new query engine")
    group_by = [g for g in spec.group_by if isinstance(g, str)]
    for name in group_by:
        _lookup(schema, name, "group_by")
    params: list[Scalar] = []
    conditions = [_condition(f, _lookup(schema, f.column, "filter"), params) for f in spec.filters]
    select: list[exp.Expr] = [_col(g) for g in group_by]
    for i, agg in enumerate(spec.aggregates):
        value, entities = _aggregate(agg, schema, entity)
        select += [value.as_(f"v{i}"), entities.as_(f"e{i}")]
    query = exp.select(*select).from_(exp.to_table(TABLE))
    if conditions:
        query = query.where(exp.and_(*conditions))
    if group_by:
        groups = [_col(g) for g in group_by]
        query = query.group_by(*groups).order_by(
            *[exp.Ordered(this=g, nulls_first=False) for g in groups]
        )
    return CompiledQuery(query.sql(dialect="duckdb"), params, group_by, list(spec.aggregates))
