"""Resolve a :class:`QuerySpec` against its datasets' schemas, before any SQL exists.

Every name is checked and every value type-checked.
The result, a :class:`Plan`, is what both the SQL compiler and the policy description
(:func:`referenced_columns`) read; errors are :class:`BadInput` naming the field and column,
never a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from gateway.core.errors import BadInput
from gateway.engine.columns import ColumnInfo
from gateway.engine.spec import Aggregate, Filter, GroupBy, QuerySpec, Scalar

NUMERIC = ("integer", "float")
ORDERABLE = (*NUMERIC, "date", "timestamp")
DATED = ("date", "timestamp")

Schemas = Mapping[str, Mapping[str, ColumnInfo]]
EntityColumns = Mapping[str, str | Sequence[str]]


@dataclass(frozen=True)
class Ref:
    """A resolved column: which table (0 = base, i = i-th join) and which column."""

    table: int
    dataset: str
    column: str
    info: ColumnInfo


@dataclass(frozen=True)
class JoinPlan:
    table: int
    dataset: str
    how: str
    left: Ref
    right: Ref


@dataclass(frozen=True)
class GroupPlan:
    ref: Ref
    name: str
    trunc: str | None
    bins: tuple[float, ...] | None


@dataclass(frozen=True)
class FilterPlan:
    ref: Ref
    op: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class AggregatePlan:
    fn: str
    name: str
    ref: Ref | None


@dataclass(frozen=True)
class Plan:
    """A spec whose every name and value has been checked against the schemas."""

    base: str
    datasets: tuple[str, ...]  # table i reads datasets[i]
    entity: Ref
    joins: tuple[JoinPlan, ...]
    filters: tuple[FilterPlan, ...]
    groups: tuple[GroupPlan, ...]
    aggregates: tuple[AggregatePlan, ...]
    totals: bool


@dataclass(frozen=True)
class ColumnUse:
    """One use of a column in a query, as the policy engine needs it (no values)."""

    dataset: str
    column: str
    role: str
    use: str  # "join" | "group_by" | "filter" | "aggregate"
    detail: str  # join how, trunc/bins, filter op or aggregate fn


def _entities(entity_columns: EntityColumns, dataset: str) -> list[str]:
    value = entity_columns.get(dataset, ())
    return [value] if isinstance(value, str) else list(value)


class _Resolver:
    def __init__(self, spec: QuerySpec, schemas: Schemas, entity_columns: EntityColumns) -> None:
        if spec.dataset not in schemas:
            raise BadInput(f"dataset: no dataset {spec.dataset}")
        self.schemas = schemas
        self.names: dict[str, int] = {}
        self.datasets = [spec.dataset]
        for i, join in enumerate(spec.joins, start=1):
            if join.dataset not in schemas:
                raise BadInput(f"joins: no dataset {join.dataset} in this project")
            self.names[join.name] = i
            self.datasets.append(join.dataset)

    def ref(self, name: str, where: str, upto: int | None = None) -> Ref:
        """Resolve ``column`` (base) or ``alias.column`` (a join, up to table ``upto``)."""
        base = self.schemas[self.datasets[0]]
        if name in base:
            return Ref(0, self.datasets[0], name, base[name])
        prefix, dot, column = name.partition(".")
        # Aliases and dataset ids may hold dots too: try every join name that prefixes it.
        for alias, i in self.names.items():
            if name.startswith(alias + ".") and (upto is None or i <= upto):
                column = name[len(alias) + 1 :]
                schema = self.schemas[self.datasets[i]]
                if column in schema:
                    return Ref(i, self.datasets[i], column, schema[column])
                raise BadInput(f"{where}: dataset {self.datasets[i]} has no column {column}")
        if dot and prefix and upto is None:
            raise BadInput(f"{where}: no column {name} (no join named {prefix})")
        raise BadInput(f"{where}: the dataset has no column {name}")


def _check_value(ref: Ref, value: Scalar, where: str) -> Scalar:
    kind = ref.info.type
    ok = {
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "date": isinstance(value, str) and _is_iso(value, date),
        "timestamp": isinstance(value, str) and (_is_iso(value, date) or _is_iso(value, datetime)),
    }.get(kind, False)
    if not ok:
        expected = "an ISO date (YYYY-MM-DD)" if kind in DATED else kind
        raise BadInput(f"{where} on {ref.column}: the value must be {expected}")
    if kind == "integer" and not -(2**63) <= value < 2**63:  # type: ignore[operator]
        raise BadInput(f"{where} on {ref.column}: the value is out of the integer range")
    return value


def _is_iso(text: str, kind: type[date] | type[datetime]) -> bool:
    if len(text) > 32:
        return False
    try:
        kind.fromisoformat(text)
    except ValueError:
        return False
    return True


def _filter(resolver: _Resolver, f: Filter) -> FilterPlan:
    ref = resolver.ref(f.column, "filter")
    if f.op in ("lt", "le", "gt", "ge", "between") and ref.info.type not in ORDERABLE:
        raise BadInput(f"filter on {f.column}: '{f.op}' needs a numeric or date column")
    values = tuple(_check_value(ref, v, "filter") for v in f.values)
    return FilterPlan(ref, f.op, values)


def _group(resolver: _Resolver, g: GroupBy) -> GroupPlan:
    ref = resolver.ref(g.column, "group_by")
    if g.trunc is not None and ref.info.type not in DATED:
        raise BadInput(f"group_by {g.column}: trunc needs a date column")
    if g.bins is not None and ref.info.type not in NUMERIC:
        raise BadInput(f"group_by {g.column}: bins need a numeric column")
    bins = tuple(float(e) for e in g.bins) if g.bins is not None else None
    return GroupPlan(ref, g.output_name, g.trunc, bins)


def _aggregate(resolver: _Resolver, a: Aggregate) -> AggregatePlan:
    if a.column is None:
        return AggregatePlan(a.fn, a.output_name, None)
    ref = resolver.ref(a.column, f"aggregate {a.fn}")
    allowed = ORDERABLE if a.fn in ("min", "max") else NUMERIC
    if ref.info.type not in allowed:
        raise BadInput(f"aggregate {a.fn} on {a.column}: needs a numeric column")
    return AggregatePlan(a.fn, a.output_name, ref)


def plan(spec: QuerySpec, schemas: Schemas, entity_columns: EntityColumns) -> Plan:
    """Check every name and value of ``spec``; raise :class:`BadInput` naming the problem."""
    resolver = _Resolver(spec, schemas, entity_columns)
    base_entities = _entities(entity_columns, spec.dataset)
    if not base_entities or base_entities[0] not in schemas[spec.dataset]:
        raise BadInput("the dataset declares no usable entity column")
    entity = resolver.ref(base_entities[0], "entity")
    joins = []
    for i, join in enumerate(spec.joins, start=1):
        left = resolver.ref(join.on, f"join {join.dataset}", upto=i - 1)
        if left.column not in _entities(entity_columns, left.dataset):
            raise BadInput(f"join {join.dataset}: {join.on} is not an entity column")
        right_name = join.right_on or left.column
        schema = schemas[join.dataset]
        if right_name not in schema:
            raise BadInput(f"join {join.dataset}: the dataset has no column {right_name}")
        if right_name not in _entities(entity_columns, join.dataset):
            raise BadInput(f"join {join.dataset}: {right_name} is not an entity column")
        right = Ref(i, join.dataset, right_name, schema[right_name])
        if left.info.type != right.info.type:
            raise BadInput(f"join {join.dataset}: {join.on} and {right_name} differ in type")
        joins.append(JoinPlan(i, join.dataset, join.how, left, right))
    return Plan(
        base=spec.dataset,
        datasets=tuple(resolver.datasets),
        entity=entity,
        joins=tuple(joins),
        filters=tuple(_filter(resolver, f) for f in spec.filters),
        groups=tuple(_group(resolver, g) for g in spec.groups),
        aggregates=tuple(_aggregate(resolver, a) for a in spec.aggregates),
        totals=spec.totals,
    )


def referenced_columns(
    spec: QuerySpec, schemas: Schemas, entity_columns: EntityColumns
) -> list[ColumnUse]:
    """Every column the query touches, with its dataset, role and use (for the policy input).

    Raises :class:`BadInput` like :func:`plan` for unknown datasets or columns.
    """
    p = plan(spec, schemas, entity_columns)
    out = []
    for j in p.joins:
        for side in (j.left, j.right):
            out.append(ColumnUse(side.dataset, side.column, side.info.role, "join", j.how))
    for g in p.groups:
        detail = g.trunc or ("bins" if g.bins is not None else "")
        out.append(ColumnUse(g.ref.dataset, g.ref.column, g.ref.info.role, "group_by", detail))
    for f in p.filters:
        out.append(ColumnUse(f.ref.dataset, f.ref.column, f.ref.info.role, "filter", f.op))
    for a in p.aggregates:
        if a.ref is not None:
            out.append(ColumnUse(a.ref.dataset, a.ref.column, a.ref.info.role, "aggregate", a.fn))
    return out
