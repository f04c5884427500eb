"""Turn one query's small result sets into the :class:`CellTable` the anonymiser judges.

The result sets hold one row per result row (never per data row); the same code
serves every engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.differencing import EntitySketch
from gateway.engine.plan import GroupPlan, Plan
from gateway.engine.sql import EngineOptions, Statements

Row = Mapping[str, Any]


def plain(value: object) -> Any:
    """JSON-friendly scalars: Decimal to int/float, dates to ISO strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _number(value: object) -> float | int | None:
    value = plain(value)
    return value if isinstance(value, int | float) else None


def _edge(edge: float) -> str:
    edge = float(edge)
    return str(int(edge)) if edge.is_integer() else repr(edge)


def bin_label(edges: Sequence[float], index: int) -> str:
    """The label of bin ``index``: ``< e0``, ``[e_i-1, e_i)`` or ``>= e_last``."""
    if index <= 0:
        return f"< {_edge(edges[0])}"
    if index >= len(edges):
        return f">= {_edge(edges[-1])}"
    return f"[{_edge(edges[index - 1])}, {_edge(edges[index])})"


def _key(groups: Sequence[GroupPlan], row: Row) -> tuple[Any, ...]:
    return (int(row["gid"]), *(plain(row[f"g{i}"]) for i in range(len(groups))))


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    # None (no value) after every value; margins (higher gid) after detail rows.
    return (key[0], *((v is None, v if v is not None else 0) for v in key[1:]))


def _public_key(groups: Sequence[GroupPlan], key: tuple[Any, ...]) -> tuple[object, ...]:
    gid, values = key[0], key[1:]
    k = len(groups)
    out: list[object] = []
    for i, (g, v) in enumerate(zip(groups, values, strict=True)):
        if gid >> (k - 1 - i) & 1:
            out.append(TOTAL)
        elif g.bins is not None and v is not None:
            out.append(bin_label(g.bins, int(v)))
        else:
            out.append(v)
    return tuple(out)


def _top(values: Sequence[object] | None) -> tuple[float, ...]:
    if not values:
        return ()
    return tuple(sorted((abs(float(plain(v))) for v in values if v is not None), reverse=True))


def _l0(options: EngineOptions, l0: Any) -> int | None:
    if not options.dp:
        return None
    return int(l0) if l0 is not None else 0  # no entity at all: no cell holds one


def cell_table(
    plan: Plan,
    st: Statements,
    options: EngineOptions,
    cells: Sequence[Row],
    order: Sequence[Row] = (),
    sketch: Sequence[Row] = (),
    l0: object = None,
) -> CellTable:
    """Assemble the cell table; rows sorted by (detail before margins, group keys)."""
    groups = plan.groups
    by_key = {_key(groups, r): r for r in cells}
    keys = sorted(by_key, key=_sort_key)
    position = {key: r for r, key in enumerate(keys)}
    order_by_key = {_key(groups, r): r for r in order}
    ordered = [
        a for a in plan.aggregates if a.ref is not None and AggregateFn(a.fn).is_order_statistic
    ]
    slot = {a.name: j for j, a in enumerate(ordered)}

    out: list[CellStats] = []
    for key in keys:
        row, r = by_key[key], position[key]
        n = int(row["o_n"])
        orow = order_by_key.get(key)
        for a in plan.aggregates:
            fn = AggregateFn(a.fn)
            dp_value: float | None = None
            if a.ref is None:
                value: Any = n if fn is AggregateFn.COUNT else int(row["o_rows"] or 0)
                if options.dp:
                    dp_value = float(
                        row["o_dp_n"] if fn is AggregateFn.COUNT else row["o_dp_rows"] or 0
                    )
                out.append(CellStats(r, a.name, fn, value, n, dp_value=dp_value))
                continue
            i = st.measures[a.ref].index
            entities = int(row[f"o_n{i}"])
            if fn.is_magnitude:
                total = _number(row[f"o_s{i}"])
                if fn is AggregateFn.SUM:
                    value = total
                else:  # a mean: value counts are kept only when a mean is asked
                    count = int(row[f"o_c{i}"] or 0)
                    value = total / count if count and total is not None else None
                if options.dp:
                    s, c = row[f"o_dp_s{i}"], int(row[f"o_dp_c{i}"] or 0)
                    s = float(s) if s is not None else 0.0
                    dp_value = s if fn is AggregateFn.SUM else (s / c if c else None)
                absolute = row[f"o_total{i}"]
                out.append(
                    CellStats(
                        r,
                        a.name,
                        fn,
                        value,
                        entities,
                        top=_top(row[f"o_top{i}"]),
                        total=float(plain(absolute)) if absolute is not None else None,
                        dp_value=dp_value,
                    )
                )
                continue
            # Order statistics: the value and side counts come from the order query.
            if orow is not None:
                j = slot[a.name]
                value = plain(orow[f"o_v{j}"])
                if a.ref.info.type == "integer" and isinstance(value, float):
                    value = int(value)  # Spark's discrete percentile answers in DOUBLE
                below, above = orow[f"o_below{j}"], orow[f"o_above{j}"]
                at_or_below = int(below) if value is not None else None
                at_or_above = int(above) if value is not None else None
            else:  # cannot happen (both read the same base rows); when in doubt, no value
                value, at_or_below, at_or_above = None, None, None
            out.append(
                CellStats(
                    r,
                    a.name,
                    fn,
                    value,
                    entities,
                    at_or_below=at_or_below,
                    at_or_above=at_or_above,
                )
            )

    sketches: tuple[object, ...] = ()
    if options.sketches:
        buckets: dict[tuple[Any, ...], dict[int, tuple[int, int, int]]] = {k: {} for k in keys}
        for s in sketch:
            buckets.setdefault(_key(groups, s), {})[int(s["bucket"])] = (
                int(s["cnt"]),
                int(s["key_xor"]),
                int(s["check_xor"]),
            )
        sketches = tuple(EntitySketch(int(by_key[k]["o_n"]), buckets[k]) for k in keys)
    return CellTable(
        group_columns=tuple(g.name for g in groups),
        value_columns=tuple(a.name for a in plan.aggregates),
        keys=tuple(_public_key(groups, k) for k in keys),
        cells=tuple(out),
        sketches=sketches,
        max_cells_per_entity=_l0(options, l0),
    )
