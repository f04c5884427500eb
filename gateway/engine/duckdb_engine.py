"""Run a compiled query on embedded DuckDB over decrypted-in-memory datasets.

The datasets' Parquet is decrypted into process memory (Arrow tables) and
registered with an in-memory DuckDB connection: no plaintext touches the disk.
Spilling is off too (``temp_directory`` empty): a query that does not fit in
the memory limit fails instead of writing intermediate rows to a temp file.
Only per-cell statistics come back; rows never reach Python.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import duckdb
import pyarrow as pa

from gateway.core.errors import BadInput
from gateway.engine.sql import Statements

# Without spilling, the limit must leave room for the per-(group, entity) hash tables: a
# tight limit (4GB) made a 10M-row query twice as slow. SLUIS_ENGINE_MEMORY overrides it.
MEMORY_SHARE = 0.6


def memory_limit() -> str:
    """DuckDB's memory limit: ``SLUIS_ENGINE_MEMORY`` (e.g. ``8GB``), else 60% of the RAM."""
    configured = os.environ.get("SLUIS_ENGINE_MEMORY")
    if configured:
        return configured
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GB"
    return f"{max(1, int(total * MEMORY_SHARE) >> 20)}MB"


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
    con = duckdb.connect(config={"memory_limit": memory_limit(), "temp_directory": ""})
    # After the temp directory: once external access is off, settings touching files are locked.
    con.execute("SET enable_external_access = false")
    return con


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description or ()]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def run_statements(st: Statements, tables: list[pa.Table]) -> dict[str, Any]:
    """Run every statement of one query; table i is registered as ``t{i}``.

    ``pe`` is materialised as a temporary (in-memory, per-cursor) table only when the
    order statistics or DP read it besides the row statistics; otherwise it streams
    into ``pb`` (sketches) or the row statistics as a CTE, and is never stored. ``pb``,
    a few thousand rows per result row at most, is materialised for its two readers.
    Returns the rows of each statement by name (``cells``, ``order``, ``sketch``) and
    ``l0``.
    """
    con = _database().cursor()
    try:
        for i, table in enumerate(tables):
            con.register(f"t{i}", table)
        if st.pe_shared:
            pe = st.with_base(st.pe, False)
            con.execute(f"CREATE TEMP TABLE {st.pe_name} AS {pe}", st.params)
        if st.pb:
            pb, params = (st.pb, {}) if st.pe_shared else (st.with_base(st.pb, True), st.params)
            con.execute(f"CREATE TEMP TABLE {st.pb_name} AS {pb}", params)
        if not (st.pe_shared or st.pb):
            return {"cells": _fetch(con, st.with_base(st.cells, True), st.params)}
        out: dict[str, Any] = {"cells": _fetch(con, st.cells, {})}
        if st.order:
            out["order"] = _fetch(con, st.with_base(st.order, False), st.params)
        if st.sketch:
            out["sketch"] = _fetch(con, st.sketch, {})
        if st.l0:
            out["l0"] = _fetch(con, st.l0, {})[0]["l0"]
        return out
    except duckdb.ConversionException as exc:
        raise BadInput("a filter value does not fit its column's type") from exc
    finally:
        con.close()
