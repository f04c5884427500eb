"""Generated datasets and specs for the engine tests, and a pure-Python oracle of the engine.

Float measures are multiples of 0.25 in a small range, so their sums are exact in any
order: the engines and the oracle must then agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import strategies as st

from anonymiser.cells import TOP_CONTRIBUTORS, TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.differencing import EntitySketch
from gateway.engine.columns import ColumnInfo
from gateway.engine.stats import bin_label

PEOPLE = [f"p{i:02d}" for i in range(10)]
SCHEMAS = {
    "base": {
        "person": ColumnInfo("person", "string", "identifier"),
        "region": ColumnInfo("region", "string", "category"),
        "amount": ColumnInfo("amount", "integer", "measure"),
        "score": ColumnInfo("score", "float", "measure"),
        "day": ColumnInfo("day", "date", "date"),
    },
    "other": {
        "person": ColumnInfo("person", "string", "identifier"),
        "kind": ColumnInfo("kind", "string", "category"),
        "x": ColumnInfo("x", "integer", "measure"),
    },
}
ENTITIES = {"base": "person", "other": "person"}
_TYPES = {"string": pa.string(), "integer": pa.int64(), "float": pa.float64(), "date": pa.date32()}


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy, strategy, strategy)


base_rows = st.lists(
    st.fixed_dictionaries(
        {
            "person": st.one_of(st.sampled_from(PEOPLE), st.sampled_from(PEOPLE), st.none()),
            "region": _maybe(st.sampled_from(["N", "S", "E"])),
            "amount": _maybe(st.integers(-20, 40)),
            "score": _maybe(st.integers(-40, 40).map(lambda i: i / 4)),
            "day": _maybe(st.integers(0, 800).map(lambda d: date(2020, 1, 1) + timedelta(d))),
        }
    ),
    max_size=30,
)
other_rows = st.lists(
    st.fixed_dictionaries(
        {
            "person": st.sampled_from(PEOPLE),
            "kind": _maybe(st.sampled_from(["k1", "k2"])),
            "x": _maybe(st.integers(0, 9)),
        }
    ),
    max_size=12,
)


def table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table with the schema of dataset ``name``."""
    schema = SCHEMAS[name]
    return pa.table({c: pa.array([r[c] for r in rows], _TYPES[i.type]) for c, i in schema.items()})


GROUPS: list[Any] = [
    "region",
    {"column": "day", "trunc": "year"},
    {"column": "day", "trunc": "quarter"},
    {"column": "day", "trunc": "month"},
    {"column": "amount", "bins": [0, 10, 20.5]},
    {"column": "score", "bins": [-1.5]},
]
FILTERS: list[dict[str, Any]] = [
    {"column": "region", "op": "in", "value": ["N", "S"]},
    {"column": "amount", "op": "ge", "value": 0},
    {"column": "day", "op": "between", "value": ["2020-03-01", "2021-06-30"]},
    {"column": "score", "op": "lt", "value": 5.5},
    {"column": "region", "op": "ne", "value": "E"},
]
FNS = ["sum", "mean", "median", "min", "max", "p10", "p25", "p75", "p90"]


@st.composite
def specs(draw: st.DrawFn, joins: bool = True) -> dict[str, Any]:
    """A query spec over ``base`` (and maybe ``other``), JSON-shaped."""
    join = draw(st.sampled_from([None, "inner", "left"])) if joins else None
    groups = draw(st.lists(st.sampled_from(range(len(GROUPS))), max_size=3, unique=True))
    group_by = [GROUPS[i] for i in groups]
    # Two truncations of the same column have different output names; keep one per column.
    seen: set[str] = set()
    group_by = [g for g in group_by if not (str(g) in seen or seen.add(str(g)))]
    columns = ["amount", "score"] + (["other.x"] if join else [])
    if join and draw(st.booleans()):
        group_by.append("other.kind")
    aggregates = [{"fn": f} for f in draw(st.sets(st.sampled_from(["count", "count_rows"])))]
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(FNS), st.sampled_from(columns)), max_size=4, unique=True)
    )
    aggregates += [{"fn": f, "column": c} for f, c in pairs]
    if not aggregates:
        aggregates = [{"fn": "count"}]
    spec: dict[str, Any] = {
        "dataset": "base",
        "group_by": group_by,
        "aggregates": aggregates,
        "filters": draw(st.lists(st.sampled_from(FILTERS), max_size=2, unique_by=str)),
        "totals": draw(st.booleans()),
    }
    if join:
        spec["joins"] = [{"dataset": "other", "on": "person", "how": join}]
    return spec


# --- the oracle ---


def _trunc(d: date, unit: str) -> str:
    month = {"year": 1, "quarter": (d.month - 1) // 3 * 3 + 1, "month": d.month}[unit]
    return date(d.year, month, 1).isoformat()


def _key_of(g: Any, row: dict[str, Any]) -> Any:
    if isinstance(g, str):
        return row[g]
    value = row[g["column"]]
    if value is None:
        return None
    if "trunc" in g:
        return _trunc(value, g["trunc"])
    edges = g["bins"]
    return bin_label(edges, sum(1 for e in edges if value >= e))


def _passes(f: dict[str, Any], row: dict[str, Any]) -> bool:
    value, op, want = row[f["column"]], f["op"], f["value"]
    if value is None:
        return False
    if isinstance(value, date):
        want = [date.fromisoformat(w) for w in want] if isinstance(want, list) else want
    return {
        "in": lambda: value in want,
        "ge": lambda: value >= want,
        "lt": lambda: value < want,
        "ne": lambda: value != want,
        "between": lambda: want[0] <= value <= want[1],
    }[op]()


def _joined(
    spec: dict[str, Any], base: list[dict[str, Any]], other: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if not spec.get("joins"):
        return [dict(r) for r in base]
    how = spec["joins"][0]["how"]
    out = []
    for r in base:
        matches = [o for o in other if r["person"] is not None and o["person"] == r["person"]]
        for o in matches:
            out.append({**r, "other.kind": o["kind"], "other.x": o["x"]})
        if not matches and how == "left":
            out.append({**r, "other.kind": None, "other.x": None})
    return out


def _cell(
    fn: AggregateFn, column: str | None, rows: list[dict[str, Any]], r: int, name: str
) -> CellStats:
    people = {x["person"] for x in rows if x["person"] is not None}
    if column is None:
        value = len(people) if fn is AggregateFn.COUNT else len(rows)
        return CellStats(r, name, fn, value, len(people))
    valued = [x for x in rows if x[column] is not None]
    contributors = {x["person"] for x in valued if x["person"] is not None}
    values = [x[column] for x in valued]
    if fn.is_magnitude:
        per: dict[Any, Any] = {}
        for x in valued:
            if x["person"] is not None:
                per[x["person"]] = per.get(x["person"], 0) + x[column]
        total = sum(values) if values else None
        value = total if fn is AggregateFn.SUM else (total / len(values) if values else None)
        top = tuple(sorted((abs(float(v)) for v in per.values()), reverse=True)[:TOP_CONTRIBUTORS])
        absolute = float(sum(abs(v) for v in per.values())) if per else None
        return CellStats(r, name, fn, value, len(contributors), top=top, total=absolute)
    if not values:
        return CellStats(r, name, fn, None, len(contributors))
    ordered = sorted(values)
    q = fn.quantile
    assert q is not None
    value = ordered[max(math.ceil(len(ordered) * q) - 1, 0)]
    below = {x["person"] for x in valued if x["person"] is not None and x[column] <= value}
    above = {x["person"] for x in valued if x["person"] is not None and x[column] >= value}
    if isinstance(value, date):
        value = value.isoformat()
    return CellStats(
        r, name, fn, value, len(contributors), at_or_below=len(below), at_or_above=len(above)
    )


def oracle(
    spec: dict[str, Any], base: list[dict[str, Any]], other: list[dict[str, Any]]
) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Expected cells and sketch per result key: ``{key: {"cells": {name: CellStats}, ...}}``."""
    rows = [
        r for r in _joined(spec, base, other) if all(_passes(f, r) for f in spec.get("filters", []))
    ]
    groups = spec.get("group_by", [])
    k = len(groups)
    masks = range(1 << k) if spec.get("totals") and k else [0]
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for mask in masks:
        for r in rows:
            key = tuple(
                TOTAL if mask >> (k - 1 - i) & 1 else _key_of(g, r) for i, g in enumerate(groups)
            )
            cells.setdefault(key, []).append(r)
    if not groups:
        cells.setdefault((), [])
    out = {}
    for key, members in cells.items():
        stats = {}
        for a in spec["aggregates"]:
            name = a["fn"] if "column" not in a else f"{a['fn']}_{a['column']}"
            stats[name] = _cell(AggregateFn(a["fn"]), a.get("column"), members, 0, name)
        people = {x["person"] for x in members if x["person"] is not None}
        out[key] = {"cells": stats, "sketch": EntitySketch.from_entities(people)}
    return out


def by_key(table: CellTable) -> dict[tuple[Any, ...], dict[str, Any]]:
    """The engine's result in the oracle's shape (row numbers dropped)."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r, key in enumerate(table.keys):
        out[key] = {
            "cells": {c.column: c for c in table.cells if c.row == r},
            "sketch": table.sketches[r] if table.sketches else None,
        }
    return out


def same_cell(a: CellStats, b: CellStats, tolerance: float = 0.0) -> bool:
    """Equal up to the row number (and float ``tolerance`` on values, top and total)."""

    def close(x: Any, y: Any) -> bool:
        if isinstance(x, float) or isinstance(y, float):
            if x is None or y is None:
                return x is y
            return math.isclose(x, y, rel_tol=tolerance, abs_tol=tolerance)
        return bool(x == y)

    return (
        a.column == b.column
        and a.fn == b.fn
        and close(a.value, b.value)
        and a.entities == b.entities
        and len(a.top) == len(b.top)
        and all(close(x, y) for x, y in zip(a.top, b.top, strict=True))
        and close(a.total, b.total)
        and a.at_or_below == b.at_or_below
        and a.at_or_above == b.at_or_above
        and close(a.dp_value, b.dp_value)
    )


def assert_same(got: dict[Any, Any], want: dict[Any, Any], tolerance: float = 0.0) -> None:
    """Both results hold the same keys, cells and sketches."""
    assert set(got) == set(want)
    for key, expected in want.items():
        actual = got[key]
        for name, cell in expected["cells"].items():
            assert same_cell(actual["cells"][name], cell, tolerance), (
                key,
                actual["cells"][name],
                cell,
            )
        if expected["sketch"] is not None:
            assert actual["sketch"] == expected["sketch"], key


def flatten(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as plain dicts (hypothesis hands out its own)."""
    return [dict(r) for r in rows]
