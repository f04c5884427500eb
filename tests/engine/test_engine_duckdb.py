"""The DuckDB engine against a pure-Python oracle on tiny generated data: counts, sums, top
contributors, order statistics with their side counts, margins and entity-set sketches."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from anonymiser.cells import TOTAL
from gateway.engine.runner import EngineOptions, execute
from gateway.engine.spec import QuerySpec
from tests.engine.engine_oracle import (
    ENTITIES,
    SCHEMAS,
    assert_same,
    base_rows,
    by_key,
    flatten,
    oracle,
    other_rows,
    specs,
    table,
)


def run(
    spec: dict[str, Any], base: list[dict[str, Any]], other: list[dict[str, Any]], **kw: Any
) -> Any:
    tables = {"base": table("base", base), "other": table("other", other)}
    return execute(
        QuerySpec.model_validate(spec), SCHEMAS, tables, ENTITIES, EngineOptions(**kw), "duckdb"
    )


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), base=base_rows, other=other_rows)
def test_duckdb_matches_the_oracle(spec: dict[str, Any], base: list[Any], other: list[Any]) -> None:
    base, other = flatten(base), flatten(other)
    got = run(spec, base, other)
    assert_same(by_key(got), oracle(spec, base, other))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), base=base_rows, other=other_rows)
def test_statistics_rolled_up_with_the_sketches_equal_the_direct_ones(
    spec: dict[str, Any], base: list[Any], other: list[Any]
) -> None:
    """With sketches the row statistics are rolled up from partial buckets (pb);
    without, they come straight from the per-entity rows: the same numbers either way."""
    base, other = flatten(base), flatten(other)
    rolled, direct = run(spec, base, other), run(spec, base, other, sketches=False)
    assert rolled.keys == direct.keys and rolled.cells == direct.cells


def test_the_top_contributors_listed_are_as_many_as_asked() -> None:
    base = [
        {"person": f"p{i:02d}", "region": "N", "amount": i, "score": None, "day": None}
        for i in range(1, 31)
    ]
    spec = {"dataset": "base", "aggregates": [{"fn": "sum", "column": "amount"}]}
    for sketches in (True, False):
        for n in (1, 2, 10):
            (cell,) = run(spec, base, [], sketches=sketches, top_contributors=n).cells
            assert cell.top == tuple(float(v) for v in range(30, 30 - n, -1))
    with pytest.raises(ValueError, match="top_contributors"):
        EngineOptions(top_contributors=11)


def test_a_person_in_several_rows_and_joined_datasets_counts_once() -> None:
    base = [
        {"person": "p01", "region": "N", "amount": 5, "score": 1.0, "day": None},
        {"person": "p01", "region": "N", "amount": 7, "score": None, "day": None},
        {"person": "p02", "region": "N", "amount": 1, "score": None, "day": None},
    ]
    other = [
        {"person": "p01", "kind": "k1", "x": 2},
        {"person": "p01", "kind": "k1", "x": 3},
    ]
    spec = {
        "dataset": "base",
        "joins": [{"dataset": "other", "on": "person"}],
        "group_by": ["region"],
        "aggregates": [{"fn": "count"}, {"fn": "sum", "column": "other.x"}],
    }
    cells = {c.column: c for c in run(spec, base, other).cells}
    assert cells["count"].value == 1  # p02 has no match in the inner join
    # p01's two base rows times two joined rows: one entity, one summed contribution.
    assert cells["sum_other.x"].entities == 1
    assert cells["sum_other.x"].top == (10.0,)
    assert cells["sum_other.x"].total == 10.0


def test_totals_mark_margins_and_bins_label_keys() -> None:
    base = [
        {"person": f"p0{i}", "region": r, "amount": a, "score": None, "day": None}
        for i, (r, a) in enumerate([("N", -3), ("N", 5), ("S", 15), ("S", 30)])
    ]
    spec = {
        "dataset": "base",
        "group_by": ["region", {"column": "amount", "bins": [0, 10, 20.5]}],
        "aggregates": [{"fn": "count"}],
        "totals": True,
    }
    got = run(spec, base, [])
    assert got.keys[0] == ("N", "< 0")
    assert ("S", ">= 20.5") in got.keys and ("S", "[10, 20.5)") in got.keys
    assert got.keys[-1] == (TOTAL, TOTAL)
    assert [got.is_margin(r) for r in range(len(got.keys))].count(True) == 2 + 4 + 1
    grand = next(c for c in got.cells if c.row == len(got.keys) - 1)
    assert grand.value == 4


def test_dp_bounds_groups_per_entity_and_clips_contributions() -> None:
    base = [
        {"person": "p01", "region": r, "amount": 100, "score": None, "day": None}
        for r in ("N", "S", "E")
    ] + [{"person": "p02", "region": "N", "amount": -100, "score": None, "day": None}]
    spec = {
        "dataset": "base",
        "group_by": ["region"],
        "aggregates": [{"fn": "count"}, {"fn": "sum", "column": "amount"}],
    }
    got = run(spec, base, [], dp_max_groups=2, dp_clip=10.0)
    counts = [c for c in got.cells if c.column == "count"]
    sums = [c for c in got.cells if c.column == "sum_amount"]
    assert got.max_cells_per_entity == 3
    assert sum(c.dp_value or 0 for c in counts) == 2 + 1  # p01 kept in 2 of its 3 rows
    assert all(c.dp_value is not None and abs(c.dp_value) <= 10.0 * 2 for c in sums)
    assert {c.dp_value for c in sums} <= {0.0, 10.0, -10.0}


def test_sketches_are_skipped_when_not_asked() -> None:
    spec = {"dataset": "base", "aggregates": [{"fn": "count"}]}
    base = [{"person": "p01", "region": "N", "amount": 1, "score": None, "day": None}]
    assert run(spec, base, [], sketches=False).sketches == ()
    assert len(run(spec, base, []).sketches) == 1


def test_duckdb_never_spills_to_disk() -> None:
    from gateway.engine.duckdb_engine import _database

    con = _database().cursor()
    try:
        settings = con.execute(
            "SELECT current_setting('temp_directory'), current_setting('enable_external_access')"
        ).fetchone()
    finally:
        con.close()
    assert settings == ("", False)
