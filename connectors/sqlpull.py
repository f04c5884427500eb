"""Pull a table or query from a partner's own database, in chunks, read-only.

The connection runs one read-only transaction (PostgreSQL ``SET TRANSACTION
READ ONLY``, SQLite ``PRAGMA query_only``) and streams rows through a
server-side cursor, so memory stays bounded. A table name is looked up among
the database's tables and quoted by SQLAlchemy, never pasted into SQL. A query
is the steward's own SQL on their own database, run as is inside the
read-only transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from sqlalchemy import MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from connectors.errors import IngestError, UnreadableFile
from connectors.readers import check_column_names

__all__ = ["DEFAULT_PULL_ROWS", "SourceError", "pull_batches"]

DEFAULT_PULL_ROWS = 50_000


class SourceError(IngestError):
    """The source database cannot be read as asked (unknown table, bad query, no access)."""


def _read_only(conn: Connection) -> None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif dialect == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")
    elif dialect in {"mysql", "mariadb"}:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # applies to the next transaction
    else:
        raise SourceError(f"pulling from {dialect} is not supported; use PostgreSQL or SQLite")


def _statement(
    conn: Connection, table: str | None, query: str | None, schema: str | None
) -> Executable:
    if (table is None) == (query is None):
        raise SourceError("give either a table or a query, not both or neither")
    if query is not None:
        return text(query)
    assert table is not None
    known = set(inspect(conn).get_table_names(schema=schema)) | set(
        inspect(conn).get_view_names(schema=schema)
    )
    if table not in known:
        raise SourceError(f"table {table!r} does not exist or is not visible to this user")
    return select(Table(table, MetaData(), schema=schema, autoload_with=conn))


def pull_batches(
    url: str,
    table: str | None = None,
    query: str | None = None,
    *,
    schema: str | None = None,
    batch_rows: int = DEFAULT_PULL_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of ``table`` (or the result of ``query``) as Arrow record batches.

    ``url`` is a SQLAlchemy URL. Every batch has the same column names (checked
    like upload headers: no empty or duplicate names); types come from the
    driver's Python values. Raises SourceError (never quoting data) when the
    table is unknown, the query fails or it tries to write.
    """
    engine = create_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            _read_only(conn)
            statement = _statement(conn, table, query, schema)
            result = conn.execution_options(stream_results=True, yield_per=batch_rows).execute(
                statement
            )
            keys = result.keys()
            names = check_column_names([str(key) for key in keys])
            types: list[pa.DataType | None] = [None] * len(names)
            for rows in result.partitions(batch_rows):
                columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
                arrays = []
                for index, values in enumerate(columns):
                    array = pa.array(values, type=types[index])
                    if types[index] is None and not pa.types.is_null(array.type):
                        types[index] = array.type  # fixed by the first batch with a value
                    arrays.append(array)
                yield pa.RecordBatch.from_arrays(arrays, names=names)
    except SQLAlchemyError as exc:
        # The driver's message can quote data (a failing cast, a constraint): keep its class only.
        raise SourceError(
            f"the source database refused the read ({type(exc).__name__}); check the URL, "
            "the table or query, and the user's read rights"
        ) from None
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise UnreadableFile("a column changes type between rows; cast it in the query") from None
    finally:
        engine.dispose()
