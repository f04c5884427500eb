"""Run a compiled aggregate on embedded DuckDB over a decrypted-in-memory dataset.

The dataset's Parquet is decrypted into process memory (an Arrow table) and
registered with an in-memory DuckDB connection: no plaintext touches the disk.
Only aggregates and per-cell entity counts come back; rows never reach Python.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache

import duckdb
import pyarrow as pa

from anonymiser import AggregateFn, CellStats, CellTable
from gateway.core.errors import BadInput
from gateway.engine.compile import TABLE, CompiledQuery

MEMORY_LIMIT = "4GB"


def _plain(value: object) -> object:
    """JSON-friendly scalars: Decimal to float, dates to ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@cache
def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory database per process; each query gets its own cursor (connection).

    Opening a database per query costs more than the query itself on small
    data; cursors share its thread pool while keeping registrations apart.
    External access is off: a query can read only the table it is given.
    """
    return duckdb.connect(config={"memory_limit": MEMORY_LIMIT, "enable_external_access": False})


def run(compiled: CompiledQuery, table: pa.Table) -> CellTable:
    """Execute and return one cell per (group, aggregate) with its distinct-entity count."""
    con = _database().cursor()
    try:
        con.register(TABLE, table)
        try:
            rows = con.execute(compiled.sql, compiled.params).fetchall()
        except duckdb.ConversionException as exc:
            raise BadInput("a filter value does not fit its column's type") from exc
    finally:
        con.close()
    width = len(compiled.group_columns)
    names = tuple(a.output_name for a in compiled.aggregates)
    keys, cells = [], []
    for r, row in enumerate(rows):
        keys.append(tuple(_plain(v) for v in row[:width]))
        for i, agg in enumerate(compiled.aggregates):
            value, entities = row[width + 2 * i], row[width + 2 * i + 1]
            cells.append(CellStats(r, names[i], AggregateFn(agg.fn), _plain(value), int(entities)))  # type: ignore[arg-type]
    return CellTable(tuple(compiled.group_columns), names, tuple(keys), tuple(cells))
