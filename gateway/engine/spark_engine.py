"""Run a compiled query on Spark (``SLUIS_ENGINE=spark``).

The same SQL statements as DuckDB, in Spark's dialect, over the same decrypted data.

Session: one per process, started lazily on the first query. ``SLUIS_SPARK_MASTER`` names
the master (``local[2]`` by default, as in the tests; a ``spark://host:7077`` URL in
production). Logs are quiet and shuffle partitions few: cell tables are small.

Decryption. The gateway decrypts each dataset version in the driver (AES-GCM, data key
unwrapped with the master key; :func:`gateway.services.datasets.load_table`) and hands the
Arrow table to :func:`run_statements`, which ships it to Spark with
``spark.createDataFrame`` (Arrow batches over the driver-executor channel, never a file).
At scale the driver would instead pass executors the file paths and the *unwrapped* data key
of each version (over an authenticated, encrypted channel, ``spark.authenticate`` and
``spark.network.crypto.enabled``); each executor decrypts its files into memory with a
Python UDF / ``mapInArrow`` and the key dies with the query. The master key never leaves
the gateway.

Plaintext on disk. ``spark.local.dir`` is a private (0700) temporary directory, removed at
exit; cached intermediates are kept in memory only (``MEMORY_ONLY``), and I/O encryption
(``spark.io.encryption.enabled``) encrypts shuffle and spill files with a per-application
key. What could still reach disk: shuffle files and sort spills (encrypted, in the private
dir), the JVM's own swap or a core dump (host settings: no swap, no core dumps), and
executor work dirs of a standalone cluster (configure them on encrypted volumes).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from gateway.engine.sql import Statements

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
_lock = threading.Lock()
_session: SparkSession | None = None


def _local_dir() -> str:
    path = tempfile.mkdtemp(prefix="sluis-spark-")
    os.chmod(path, 0o700)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def session() -> SparkSession:
    """The process's SparkSession, started on first use."""
    global _session
    with _lock:
        if _session is None:
            from pyspark.sql import SparkSession

            _session = (
                SparkSession.builder.master(os.environ.get("SLUIS_SPARK_MASTER", DEFAULT_MASTER))
                .appName("sluis")
                .config("spark.local.dir", _local_dir())
                .config("spark.io.encryption.enabled", "true")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.default.parallelism", "2")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.adaptive.enabled", "true")
                .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR")
                .getOrCreate()
            )
            _session.sparkContext.setLogLevel("ERROR")
            atexit.register(_session.stop)
        return _session


def names(count: int) -> tuple[list[str], str]:
    """Fresh view names for one query's tables and its ``pe``.

    Views are session-wide and queries run concurrently.
    """
    tag = f"sluis_{uuid.uuid4().hex[:12]}"
    return [f"{tag}_t{i}" for i in range(count)], f"{tag}_pe"


def _rows(df: Any) -> list[dict[str, Any]]:
    return [r.asDict() for r in df.collect()]


def run_statements(st: Statements, tables: Sequence[pa.Table]) -> dict[str, Any]:
    """Run every statement of one query; returns rows per statement like the DuckDB engine."""
    from pyspark.storagelevel import StorageLevel

    spark = session()
    cached = []
    try:
        for name, table in zip(st.tables, tables, strict=True):
            spark.createDataFrame(table).createOrReplaceTempView(name)

        def keep(df: Any, name: str) -> None:
            # Read by several statements: kept in memory, never on disk.
            df = df.persist(StorageLevel.MEMORY_ONLY)
            df.createOrReplaceTempView(name)
            cached.append(df)

        keep(spark.sql(st.with_base(st.pe, False), args=st.params), st.pe_name)
        if st.pb:
            keep(spark.sql(st.pb), st.pb_name)
        out: dict[str, Any] = {"cells": _rows(spark.sql(st.cells))}
        if st.order:
            out["order"] = _rows(spark.sql(st.with_base(st.order, False), args=st.params))
        if st.sketch:
            out["sketch"] = _rows(spark.sql(st.sketch))
        if st.l0:
            out["l0"] = _rows(spark.sql(st.l0))[0]["l0"]
        return out
    finally:
        for df in cached:
            df.unpersist()
        for view in (*st.tables, st.pe_name, st.pb_name):
            spark.catalog.dropTempView(view)
