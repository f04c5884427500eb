"""The query engine's entry point: spec in, per-cell statistics (a CellTable) out.

It checks a spec, compiles it for DuckDB or Spark, runs it, and returns what the
anonymiser judges.

    cells = execute(spec, schemas, tables, entity_columns, EngineOptions(), engine="duckdb")

``schemas`` and ``tables`` are keyed by dataset id (the base dataset and every joined one);
``entity_columns`` maps each dataset to its entity column(s) (the first one of the base
dataset is the one counted). The engine is ``SLUIS_ENGINE`` (``duckdb`` by default) unless
given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Literal

import pyarrow as pa

from anonymiser import CellTable
from gateway.core.errors import BadInput
from gateway.engine import duckdb_engine
from gateway.engine.hashes import entity_keys
from gateway.engine.plan import EntityColumns, Plan, Schemas, plan, referenced_columns
from gateway.engine.spec import QuerySpec
from gateway.engine.sql import EngineOptions, EntityKeys, compile_plan
from gateway.engine.stats import cell_table

__all__ = [
    "Engine",
    "EngineOptions",
    "engine_name",
    "execute",
    "execute_plan",
    "referenced_columns",
]

Engine = Literal["duckdb", "spark"]


def engine_name(engine: str | None = None) -> Engine:
    """The engine to use: the argument, else ``SLUIS_ENGINE``, else DuckDB."""
    name = engine or os.environ.get("SLUIS_ENGINE", "duckdb")
    if name not in ("duckdb", "spark"):
        raise ValueError("SLUIS_ENGINE must be duckdb or spark")
    return name  # type: ignore[return-value]


def _tables(p: Plan, tables: Mapping[str, pa.Table]) -> list[pa.Table]:
    missing = [d for d in p.datasets if d not in tables]
    if missing:
        raise BadInput(f"dataset: no data for {missing[0]}")
    return [tables[d] for d in p.datasets]


def _entity_keys(p: Plan, data: list[pa.Table]) -> EntityKeys | None:
    """The entity's precomputed hidden columns, when its table was loaded with them."""
    hidden = entity_keys(p.entity.column)
    present = data[p.entity.table].column_names
    if hidden.key not in present:
        return None
    return hidden if hidden.ordinal in present else replace(hidden, ordinal=None)


def execute(
    spec: QuerySpec,
    schemas: Schemas,
    tables: Mapping[str, pa.Table],
    entity_columns: EntityColumns,
    options: EngineOptions | None = None,
    engine: str | None = None,
) -> CellTable:
    """Run ``spec`` and return one :class:`CellTable` (rows sorted: detail rows, then margins).

    Raises :class:`BadInput` (422) naming the problem for unknown datasets or columns, type
    mismatches, joins on non-entity columns and values that do not fit their column.
    """
    return execute_plan(plan(spec, schemas, entity_columns), tables, options, engine)


def execute_plan(
    p: Plan,
    tables: Mapping[str, pa.Table],
    options: EngineOptions | None = None,
    engine: str | None = None,
) -> CellTable:
    """Run an already checked :class:`Plan` (see :func:`execute`)."""
    options = options or EngineOptions()
    data = _tables(p, tables)
    name = engine_name(engine)
    entity = _entity_keys(p, data)
    if name == "spark":
        from gateway.engine import spark_engine  # pyspark and the JVM only when asked

        views, pe_name = spark_engine.names(len(data))
        st = compile_plan(p, "spark", views, options, pe_name, entity)
        results = spark_engine.run_statements(st, data)
    else:
        views = [f"t{i}" for i in range(len(data))]
        st = compile_plan(p, "duckdb", views, options, entity=entity)
        results = duckdb_engine.run_statements(st, data)
    return cell_table(
        p,
        st,
        options,
        results["cells"],
        results.get("order", ()),
        results.get("sketch", ()),
        results.get("l0"),
    )
