"""Entity keys computed once per loaded table, so queries need not hash per (group, entity).

Each result row's entity-set sketch (:mod:`anonymiser.sketch`) reads every entity's key h,
an md5 of its value. Hashed in SQL, that is an md5 per (group, entity) per query; the
gateway instead adds a hidden BIGINT column to a table when it loads it (once per version
and project, then cached) and the engine reads that. It is computed by the very SQL
expression the engine falls back to, so both paths give the same sketches. (The check g
of a key is cheap arithmetic on it, computed per query.)

The key also identifies the entity: the engine groups and counts entities by it, which is
cheaper than by a 32-character pseudonym. That needs the key to be unique over the
table's distinct entities, which is checked here: in the (astronomically rare, about
n^2 / 2^61 for n entities) case of two entities sharing a 60-bit key, a second column
numbers the distinct entities densely and the engine counts by that number instead.
The columns are not in any dataset schema, so no query can name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pyarrow as pa

from gateway.engine import duckdb_engine
from gateway.engine.sql import EntityKeys, entity_hash_sql

__all__ = ["HIDDEN_PREFIX", "entity_keys", "with_entity_hashes"]

HIDDEN_PREFIX: Final = "__sluis_"


def _hidden(column: str) -> tuple[str, str]:
    """The names of ``column``'s hidden key and ordinal columns, in the order they are added."""
    return f"{HIDDEN_PREFIX}h__{column}", f"{HIDDEN_PREFIX}o__{column}"


def entity_keys(column: str) -> EntityKeys:
    """The hidden columns of ``column``: its sketch key and (if keys collide) entity ordinal."""
    key, ordinal = _hidden(column)
    return EntityKeys(ordinal=ordinal, key=key)


def _hashable(kind: pa.DataType) -> bool:
    # Text and integers read the same as VARCHAR in DuckDB and as STRING in Spark.
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)
    )


def _hashes(column: pa.ChunkedArray) -> list[pa.Array]:
    """The key h of each value of ``column`` (and ordinal o, if two values share a key).

    In row order, NULL for NULL. The engine's own SQL on its own database, in parallel:
    each distinct value is hashed and numbered once, then joined back to the rows.
    """
    rows = len(column)
    con = duckdb_engine._database().cursor()
    try:
        con.register("entity_values", pa.table({"i": np.arange(rows, dtype=np.int64), "v": column}))
        con.execute(
            f"CREATE TEMP TABLE u AS SELECT v, {entity_hash_sql('duckdb', 'v')} AS h, "  # noqa: S608 (internal aliases only)
            "ROW_NUMBER() OVER () - 1 AS o "
            "FROM (SELECT DISTINCT v FROM entity_values WHERE v IS NOT NULL)"
        )
        ((unique,),) = con.execute("SELECT COUNT(*) = COUNT(DISTINCT h) FROM u").fetchall()
        found = con.sql(
            "SELECT entity_values.i, u.h, u.o FROM entity_values JOIN u ON entity_values.v = u.v"
        ).to_arrow_table()
    finally:
        con.close()
    at = found.column("i").to_numpy()
    out = []
    for name in ("h",) if unique else ("h", "o"):
        values = np.zeros(rows, dtype=np.int64)
        values[at] = found.column(name).to_numpy()
        missing = np.ones(rows, dtype=np.bool_)
        missing[at] = False
        out.append(pa.array(values, mask=missing))
    return out


def with_entity_hashes(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    """``table`` with the hidden key column (and, rarely, ordinal) of each of ``columns``.

    Columns of other types than text or integer are left out (the engine then hashes in
    SQL). Any column the data brought under a hidden name is dropped first, so a dataset
    can never supply its own keys.
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
