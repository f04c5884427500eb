"""SQL pull: read a partner's table or query in chunks and ingest it like an upload.

The rows are written as Parquet into an encrypted spool (never in clear on
disk) and then run through the same pipeline as every other source.
"""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.errors import IngestError
from connectors.spool import EncryptedSpool
from connectors.sqlpull import DEFAULT_PULL_ROWS, pull_batches
from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput
from gateway.ingest import pipeline
from gateway.ingest.workspace import workspace
from gateway.services import datasets, inbox
from gateway.services.runtime import Runtime

__all__ = ["pull", "safe_url"]


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages and the audit log."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


class _SpoolSink(io.RawIOBase):
    """A write-only file object over an encrypted spool, for Parquet's writer."""

    def __init__(self, spool: EncryptedSpool) -> None:
        super().__init__()
        self._spool = spool

    def writable(self) -> bool:
        """Always writable."""
        return True

    def write(self, data: Any) -> int:
        """Append to the spool."""
        chunk = bytes(data)
        self._spool.write(chunk)
        return len(chunk)

    def tell(self) -> int:
        """Bytes written so far."""
        return self._spool.size


def pull(
    rt: Runtime,
    ctx: AuditContext,
    org: str,
    url: str,
    meta_raw: str,
    *,
    table: str | None = None,
    query: str | None = None,
    chunk_rows: int = DEFAULT_PULL_ROWS,
) -> dict[str, Any]:
    """Pull ``table`` (``schema.table`` allowed) or ``query`` from ``url`` for ``org``.

    The rows become the next version of the dataset ``meta_raw`` names, through
    the same pipeline as an upload. Nothing is stored when anything fails.
    """
    if chunk_rows < 1:
        raise BadInput("the chunk size must be at least one row")
    if (table is None) == (query is None):
        raise BadInput("give exactly one of --table or --query")
    schema, _, name = (table or "").rpartition(".")
    user = inbox.service_user(rt, ctx, org)
    with workspace(rt.settings.tmp_dir) as space, EncryptedSpool(space.path) as spool:
        rows = 0
        try:
            batches = pull_batches(
                url, name or None, query, schema=schema or None, batch_rows=chunk_rows
            )
            writer: pq.ParquetWriter | None = None
            for batch in batches:
                if writer is None:
                    sink = pa.PythonFile(_SpoolSink(spool), mode="w")
                    writer = pq.ParquetWriter(sink, batch.schema)
                writer.write_batch(batch)
                rows += batch.num_rows
        except IngestError as exc:
            raise pipeline.gateway_error(exc) from exc
        except ArgumentError as exc:
            raise BadInput("the database URL is not a SQLAlchemy URL") from exc
        if writer is None or rows == 0:
            raise BadInput("the source returned no rows: check the table or query")
        writer.close()
        spool.finish()
        body = datasets.ingest(
            rt, ctx, user, spool, "pull.parquet", meta_raw, source="pull", space=space
        )
    with rt.write() as s:
        details = {
            "org": org,
            "source": safe_url(url),
            "table": table,
            "query": query is not None,
            "rows": rows,
            "dataset": body["id"],
            "version": body["version"],
        }
        append(s, ctx, "dataset.pull", f"dataset:{body['id']}", details=details)
    return body
