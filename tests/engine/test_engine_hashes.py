"""Entity columns precomputed at load time (the sketch key, an ordinal if keys collide)
give exactly the statistics and sketches of counting by value and hashing in SQL, which are
the Python oracle's; the hidden columns holding them cannot be named by a query."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anonymiser.sketch import EntitySketch, entity_hash
from gateway.core.errors import BadInput
from gateway.engine import hashes
from gateway.engine.hashes import entity_keys, with_entity_hashes
from gateway.engine.runner import EngineOptions, execute
from gateway.engine.spec import QuerySpec
from gateway.engine.sql import check_hash_sql
from tests.engine.engine_oracle import (
    ENTITIES,
    SCHEMAS,
    base_rows,
    by_key,
    flatten,
    oracle,
    other_rows,
    specs,
    table,
)

SPEC = {
    "dataset": "base",
    "group_by": ["region"],
    "totals": True,
    "aggregates": [{"fn": "count"}, {"fn": "sum", "column": "amount"}],
}


def run(
    spec: dict[str, Any], tables: dict[str, pa.Table], engine: str = "duckdb", **kw: Any
) -> Any:
    parsed = QuerySpec.model_validate(spec)
    return execute(parsed, SCHEMAS, tables, ENTITIES, EngineOptions(**kw), engine)


def hashed(base: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, pa.Table]:
    return {
        "base": with_entity_hashes(table("base", base), ["person"]),
        "other": with_entity_hashes(table("other", other), ["person"]),
    }


def plain(base: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, pa.Table]:
    return {"base": table("base", base), "other": table("other", other)}


def sketches(cells: Any) -> dict[Any, EntitySketch]:
    return {key: row["sketch"] for key, row in by_key(cells).items()}


def rows(people: list[str | None]) -> list[dict[str, Any]]:
    regions = "NSE"
    return [
        {"person": p, "region": regions[i % 3], "amount": i, "score": None, "day": None}
        for i, p in enumerate(people)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), base=base_rows, other=other_rows)
def test_precomputed_hashes_give_the_sql_and_the_oracle_sketches(
    spec: dict[str, Any], base: list[Any], other: list[Any]
) -> None:
    base, other = flatten(base), flatten(other)
    fast, slow = run(spec, hashed(base, other)), run(spec, plain(base, other))
    got = sketches(fast)
    assert got == sketches(slow)
    assert got == {key: want["sketch"] for key, want in oracle(spec, base, other).items()}
    # Counting entities by their key gives the statistics of counting them by value.
    assert fast.keys == slow.keys and fast.cells == slow.cells


def test_keys_are_unique_so_no_ordinal_is_added() -> None:
    got = with_entity_hashes(table("base", rows(["p01", "p02", "p01", None])), ["person"])
    assert entity_keys("person").ordinal not in got.column_names


def test_colliding_keys_add_an_ordinal_and_counts_stay_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two entities sharing a key must not be counted as one: the engine counts by ordinal."""
    # A deliberately weak key (the value's length): p01 and p02 collide.
    monkeypatch.setattr(hashes, "entity_hash_sql", lambda _d, v: f"CAST(LENGTH({v}) AS BIGINT)")
    people = ["p03", None, "p01", "p03", "p02", "p01", "p0004"]
    got = with_entity_hashes(table("base", rows(people)), ["person"])
    ordinals = got[entity_keys("person").ordinal].to_pylist()
    assert [o is None for o in ordinals] == [p is None for p in people]
    number = {p: o for p, o in zip(people, ordinals, strict=True) if p is not None}
    assert sorted(number.values()) == [0, 1, 2, 3]  # one number per entity, from 0
    assert all(number[p] == o for p, o in zip(people, ordinals, strict=True) if p is not None)
    spec = {**SPEC, "aggregates": [{"fn": "count"}, {"fn": "sum", "column": "amount"}]}
    fast, slow = run(spec, {"base": got}), run(spec, plain(rows(people), []))
    assert fast.keys == slow.keys and fast.cells == slow.cells


def test_the_hidden_column_holds_the_sketch_key() -> None:
    people = ["p01", None, "p02", "p01", "a much longer pseudonym é"]
    got = with_entity_hashes(table("base", rows(people)), ["person"])
    for person, h in zip(people, got[entity_keys("person").key].to_pylist(), strict=True):
        if person is None:
            assert h is None
        else:
            assert EntitySketch.from_keys([h]) == EntitySketch.from_entities([person])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 2**60 - 1), min_size=1, max_size=50))
def test_the_sql_check_is_the_python_check(keys: list[int]) -> None:
    """The check g of the sketch contract, in SQL (both dialects' text) and in Python."""
    con = duckdb.connect()
    got = con.execute(
        f"SELECT k, {check_hash_sql('duckdb', 'k')} "
        "FROM (SELECT UNNEST(CAST($keys AS BIGINT[])) AS k)",
        {"keys": keys},
    ).fetchall()
    for key, check in got:
        assert EntitySketch.from_keys([key]).buckets[key & 31][2] == check
    assert "SHIFTRIGHT(k, 30)" in check_hash_sql("spark", "k")  # run by the parity tests


def test_integer_entities_are_hashed_as_their_text() -> None:
    numbers = pa.table({"id": pa.array([7, None, -12, 7], pa.int64())})
    got = with_entity_hashes(numbers, ["id"])[entity_keys("id").key].to_pylist()
    assert got == [entity_hash("7"), None, entity_hash("-12"), entity_hash("7")]


def test_a_dataset_cannot_supply_its_own_hashes() -> None:
    people = [f"p{i:02d}" for i in range(6)]
    forged = table("base", rows(people))
    for column in ("person", "region"):
        for name in (entity_keys(column).ordinal, entity_keys(column).key):
            forged = forged.append_column(name, pa.array([1] * 6, pa.int64()))
    got = with_entity_hashes(forged, ["person"])
    assert got.column_names == [*table("base", []).column_names, entity_keys("person").key]
    fast, slow = run(SPEC, {"base": got}), run(SPEC, plain(rows(people), []))
    assert fast.sketches == slow.sketches and fast.cells == slow.cells


@pytest.mark.parametrize("use", ["group_by", "filter", "aggregate"])
def test_the_hidden_columns_cannot_be_named(use: str) -> None:
    tables = hashed(rows(["p01", "p02"]), [])
    hidden = entity_keys("person").key
    spec: dict[str, Any] = {"dataset": "base", "aggregates": [{"fn": "count"}]}
    if use == "group_by":
        spec["group_by"] = [hidden]
    elif use == "filter":
        spec["filters"] = [{"column": hidden, "op": "eq", "value": 1}]
    else:
        spec["aggregates"] = [{"fn": "sum", "column": hidden}]
    with pytest.raises(BadInput, match="no column"):
        run(spec, tables)


def test_sketches_off_reads_no_hashes() -> None:
    tables = hashed(rows(["p01", "p02", "p03"]), [])
    assert run(SPEC, tables, sketches=False).sketches == ()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_spark_reads_the_same_hashes(spark: object) -> None:
    people: list[str | None] = [f"p{i % 9:02d}" for i in range(40)] + [None]
    base, other = rows(people), [{"person": "p01", "kind": "k1", "x": 1}]
    spec = {**SPEC, "joins": [{"dataset": "other", "on": "person", "how": "left"}]}
    duck = run(spec, hashed(base, other))
    assert run(spec, hashed(base, other), "spark").sketches == duck.sketches
    assert duck.sketches == run(spec, plain(base, other), "spark").sketches
