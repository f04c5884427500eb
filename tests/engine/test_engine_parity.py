"""DuckDB and Spark give identical cell tables for generated specs over generated data."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.engine.runner import EngineOptions, execute
from gateway.engine.spec import QuerySpec
from tests.engine.engine_oracle import (
    ENTITIES,
    SCHEMAS,
    assert_same,
    base_rows,
    by_key,
    flatten,
    other_rows,
    specs,
    table,
)

pytestmark = [
    pytest.mark.slow,
    # PySpark's Arrow transfer leaves a local socket to the garbage collector.
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

options = st.one_of(
    st.just(EngineOptions()),
    st.builds(
        EngineOptions,
        sketches=st.booleans(),
        dp_max_groups=st.integers(1, 3),
        dp_clip=st.sampled_from([1.0, 5.5, 100.0]),
    ),
)


def both(spec: dict[str, Any], base: list[Any], other: list[Any], opts: EngineOptions) -> Any:
    tables = {"base": table("base", base), "other": table("other", other)}
    parsed = QuerySpec.model_validate(spec)
    return [execute(parsed, SCHEMAS, tables, ENTITIES, opts, e) for e in ("duckdb", "spark")]


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(spec=specs(), base=base_rows, other=other_rows, opts=options)
def test_duckdb_and_spark_agree(
    spark: object, spec: dict[str, Any], base: list[Any], other: list[Any], opts: EngineOptions
) -> None:
    duck, spk = both(spec, flatten(base), flatten(other), opts)
    # Same rows in the same order, same cells; float sums exact here (multiples of 1/4).
    assert duck.keys == spk.keys
    assert duck.max_cells_per_entity == spk.max_cells_per_entity
    assert_same(by_key(spk), by_key(duck), tolerance=1e-9)


def test_parity_on_a_fixed_spec_with_everything(spark: object) -> None:
    base = [
        {
            "person": f"p0{i % 7}",
            "region": "NSE"[i % 3],
            "amount": i * 3 - 20,
            "score": i / 4,
            "day": None,
        }
        for i in range(40)
    ]
    other = [{"person": f"p0{i}", "kind": "k1" if i % 2 else "k2", "x": i} for i in range(5)]
    spec = {
        "dataset": "base",
        "joins": [{"dataset": "other", "on": "person", "how": "left"}],
        "group_by": ["region", "other.kind"],
        "totals": True,
        "aggregates": [
            {"fn": "count"},
            {"fn": "count_rows"},
            {"fn": "sum", "column": "amount"},
            {"fn": "mean", "column": "score"},
            {"fn": "median", "column": "other.x"},
            {"fn": "p25", "column": "amount"},
            {"fn": "max", "column": "score"},
        ],
    }
    duck, spk = both(spec, base, other, EngineOptions(dp_max_groups=1, dp_clip=10.0))
    assert duck.keys == spk.keys and len(duck.keys) == 3 * 3 + 3 + 3 + 1
    assert_same(by_key(spk), by_key(duck), tolerance=1e-9)
    assert duck.sketches == spk.sketches
