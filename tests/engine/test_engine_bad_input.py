"""Hostile and mistaken specs: each is refused naming the problem, never echoing a value,
and the engine answers the next query as before."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from gateway.core.errors import BadInput
from gateway.engine.columns import ColumnInfo
from gateway.engine.plan import referenced_columns
from gateway.engine.runner import EngineOptions, execute
from gateway.engine.spec import QuerySpec
from tests.engine.engine_oracle import ENTITIES, SCHEMAS, table

ROWS = [
    {"person": "p01", "region": "N", "amount": 5, "score": 1.5, "day": None},
    {"person": "p02", "region": "S", "amount": 7, "score": None, "day": None},
]
NASTY = ["'; DROP TABLE t0; --", 'a"b', "back\\slash", "ünï\u200bcødé", "$p0", ":p0", "?"]


def run(spec: dict[str, Any], schemas: Any = SCHEMAS) -> Any:
    tables = {"base": table("base", ROWS), "other": table("other", [])}
    return execute(QuerySpec.model_validate(spec), schemas, tables, ENTITIES, EngineOptions())


def still_works() -> None:
    got = run({"dataset": "base", "group_by": ["region"], "aggregates": [{"fn": "count"}]})
    assert [c.value for c in got.cells] == [1, 1]


def spec_with(**change: Any) -> dict[str, Any]:
    return {"dataset": "base", "group_by": ["region"], "aggregates": [{"fn": "count"}], **change}


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"dataset": "nope"}, "no dataset nope"),
        ({"group_by": ["nope"]}, "no column nope"),
        ({"group_by": ["other.kind"]}, "no join named other"),
        ({"aggregates": [{"fn": "sum", "column": "region"}]}, "needs a numeric column"),
        ({"aggregates": [{"fn": "p90", "column": "day"}]}, "needs a numeric column"),
        ({"filters": [{"column": "amount", "op": "eq", "value": "12"}]}, "must be integer"),
        ({"filters": [{"column": "day", "op": "ge", "value": "soon"}]}, "iso date"),
        ({"filters": [{"column": "region", "op": "lt", "value": "N"}]}, "numeric or date"),
        ({"group_by": [{"column": "region", "trunc": "year"}]}, "trunc needs a date column"),
        ({"group_by": [{"column": "day", "bins": [1, 2]}]}, "bins need a numeric column"),
        ({"joins": [{"dataset": "nope", "on": "person"}]}, "no dataset nope"),
        ({"joins": [{"dataset": "other", "on": "region"}]}, "region is not an entity column"),
        (
            {"joins": [{"dataset": "other", "on": "person", "right_on": "kind"}]},
            "kind is not an entity column",
        ),
        ({"filters": [{"column": "amount", "op": "eq", "value": 2**70}]}, "integer range"),
    ],
)
def test_bad_specs_name_the_problem(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(BadInput) as err:
        run(spec_with(**change))
    assert fragment in str(err.value).lower()
    still_works()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"filters": [{"column": "region", "op": "in", "value": ["x"] * 100_000}]}, "at most 1000"),
        ({"filters": [{"column": "region", "op": "in", "value": [[["x"]]]}]}, "filters"),
        ({"group_by": ["region"] * 11}, "at most 10"),
        ({"aggregates": [{"fn": "count"}] * 21}, "at most 20"),
        ({"group_by": [{"column": "amount", "bins": list(range(101))}]}, "at most 100"),
        ({"group_by": [{"column": "amount", "bins": [3, 2]}]}, "strictly increasing"),
        ({"group_by": [{"column": "amount", "bins": [1, float("inf")]}]}, "finite"),
        ({"group_by": [{"column": "day", "trunc": "week"}]}, "trunc"),
        ({"group_by": ["a" * 201]}, "at most 200"),
        ({"filters": [{"column": "region", "op": "eq", "value": "x" * 201}]}, "at most 200"),
        ({"filters": [{"column": "score", "op": "eq", "value": float("nan")}]}, "finite"),
        ({"totals": True, "group_by": ["region", "amount", "score", "day", "person"]}, "totals"),
        ({"joins": [{"dataset": "other", "on": "person"}] * 2}, "same name"),
        ({"joins": [{"dataset": "other", "on": "person", "alias": "x y"}]}, "alias"),
        (
            {"filters": [{"column": "region", "op": "in", "value": ["x"] * 1000}] * 6},
            "at most 5000 values",
        ),
        ({"aggregates": [{"fn": "stddev", "column": "amount"}]}, "aggregates"),
    ],
)
def test_hostile_specs_are_refused_by_the_model(change: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError) as err:
        QuerySpec.model_validate(spec_with(**change))
    text = str([(e["loc"], e["msg"]) for e in err.value.errors()]).lower()
    assert fragment in text
    # What the API returns (loc and msg) never holds the submitted values.
    assert "x" * 50 not in text and "'x', 'x'" not in text


@pytest.mark.parametrize("nasty", NASTY)
def test_sql_metacharacters_in_values_are_only_values(nasty: str) -> None:
    got = run(spec_with(filters=[{"column": "region", "op": "in", "value": [nasty, "N"]}]))
    assert [c.value for c in got.cells] == [1]
    with pytest.raises(BadInput) as err:
        run(spec_with(filters=[{"column": "amount", "op": "eq", "value": nasty}]))
    assert nasty not in str(err.value)
    still_works()


@pytest.mark.parametrize("nasty", NASTY)
def test_sql_metacharacters_in_names_are_unknown_columns(nasty: str) -> None:
    with pytest.raises(BadInput, match="no column"):
        run(spec_with(group_by=[nasty]))
    still_works()


@pytest.mark.parametrize("nasty", NASTY)
def test_sql_metacharacters_in_real_column_names_are_quoted(nasty: str) -> None:
    schemas = {
        **SCHEMAS,
        "base": {**SCHEMAS["base"], nasty: ColumnInfo(nasty, "string", "category")},
    }
    rows = [{**r, nasty: r["region"]} for r in ROWS]
    import pyarrow as pa

    tables = {"base": table("base", ROWS).append_column(nasty, pa.array([r[nasty] for r in rows]))}
    spec = QuerySpec.model_validate(spec_with(group_by=[nasty]))
    got = execute(spec, schemas, tables, ENTITIES, EngineOptions())
    assert got.keys == (("N",), ("S",))


def test_referenced_columns_describe_joins_and_uses() -> None:
    spec = QuerySpec.model_validate(
        {
            "dataset": "base",
            "joins": [{"dataset": "other", "on": "person", "how": "left", "alias": "o"}],
            "group_by": ["o.kind", {"column": "day", "trunc": "quarter"}],
            "filters": [{"column": "amount", "op": "gt", "value": 1}],
            "aggregates": [{"fn": "sum", "column": "o.x"}],
        }
    )
    uses = {
        (u.dataset, u.column, u.use, u.detail) for u in referenced_columns(spec, SCHEMAS, ENTITIES)
    }
    assert uses == {
        ("base", "person", "join", "left"),
        ("other", "person", "join", "left"),
        ("other", "kind", "group_by", ""),
        ("base", "day", "group_by", "quarter"),
        ("base", "amount", "filter", "gt"),
        ("other", "x", "aggregate", "sum"),
    }
