"""Entity columns computed once per loaded table, so queries need not hash per (group, entity).

Each result row's entity-set sketch (:mod:`anonymiser.sketch`) reads every entity's key h
and check g, two md5 each. Hashed in SQL, that is two md5 per (group, entity) per query;
the gateway instead adds hidden BIGINT columns to a table when it loads it (once per
version and project, then cached) and the engine reads those. They are computed by the very
SQL expressions the engine falls back to, so both paths give the same sketches.

The key also identifies the entity: the engine groups and counts entities by it, which is
cheaper than by a 32-character pseudonym. That needs the key to be unique over the
table's distinct entities, which is checked here: in the (astronomically rare, about
n^2 / 2^61 for n entities) case of two entities sharing a 60-bit key, a third column
numbers the distinct entities densely and the engine counts by that number instead.
The columns are not in any dataset schema, so no query can name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pyarrow as pa

from gateway.engine import duckdb_engine
from gateway.engine.sql import EntityKeys, check_hash_sql, entity_hash_sql

__all__ = ["HIDDEN_PREFIX", "entity_keys", "hash_columns", "with_entity_hashes"]

HIDDEN_PREFIX: Final = "__sluis_"


def hash_columns(column: str) -> tuple[str, str]:
    """The hidden columns holding the sketch key and check of ``column``'s values."""
    return f"{HIDDEN_PREFIX}h__{column}", f"{HIDDEN_PREFIX}g__{column}"


def entity_keys(column: str) -> EntityKeys:
    """All hidden columns of ``column``: its entity ordinal, sketch key and check."""
    return EntityKeys(f"{HIDDEN_PREFIX}o__{column}", *hash_columns(column))


def _hidden(column: str) -> tuple[str, str, str]:
    keys = entity_keys(column)
    assert keys.ordinal is not None
    return keys.key, keys.check, keys.ordinal


def _hashable(kind: pa.DataType) -> bool:
    # Text and integers read the same as VARCHAR in DuckDB and as STRING in Spark.
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
    )


def _hashes(column: pa.ChunkedArray) -> list[pa.Array]:
    """Key h and check g per value of ``column`` (and ordinal o, if two values share a key).

    In row order, NULL for NULL. The engine's own SQL on its own database, in parallel:
    each distinct value is hashed and numbered once, then joined back to the rows.
    """
    rows = len(column)
    con = duckdb_engine._database().cursor()
    try:
        con.register("entity_values", pa.table({"i": np.arange(rows, dtype=np.int64), "v": column}))
        con.execute(
            f"CREATE TEMP TABLE u AS WITH hs AS (SELECT v, {entity_hash_sql('duckdb', 'v')} AS h "  # noqa: S608 (internal aliases only)
            "FROM (SELECT DISTINCT v FROM entity_values WHERE v IS NOT NULL)) "
            f"SELECT v, h, {check_hash_sql('duckdb', 'h')} AS g, ROW_NUMBER() OVER () - 1 AS o "
            "FROM hs"
        )
        ((unique,),) = con.execute("SELECT COUNT(*) = COUNT(DISTINCT h) FROM u").fetchall()
        found = con.sql(
            "SELECT entity_values.i, u.h, u.g, u.o FROM entity_values "
            "JOIN u ON entity_values.v = u.v"
        ).to_arrow_table()
    finally:
        con.close()
    at = found.column("i").to_numpy()
    out = []
    for name in ("h", "g") if unique else ("h", "g", "o"):
        values = np.zeros(rows, dtype=np.int64)
        values[at] = found.column(name).to_numpy()
        missing = np.ones(rows, dtype=np.bool_)
        missing[at] = False
        out.append(pa.array(values, mask=missing))
    return out


def with_entity_hashes(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    """``table`` with the hidden key and check columns (and, rarely, ordinal) of ``columns``.

    Columns of other types than text or integer are left out (the engine then hashes in
    SQL). Any column the data brought under a hidden name is dropped first, so a dataset
    can never supply its own hashes.
    """
    hidden = {name for column in table.column_names for name in _hidden(column)}
    out = table.drop_columns([c for c in table.column_names if c in hidden])
    for name in columns:
        column = out.column(name)
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        if _hashable(column.type):
            for hidden_name, data in zip(_hidden(name), _hashes(column), strict=False):
                out = out.append_column(hidden_name, data)
    return out
