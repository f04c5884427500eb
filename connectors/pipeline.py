"""The streaming ingest: upload -> batches -> validate -> detect -> pseudonymise -> encrypt.

Memory stays bounded whatever the file size: a head sample (types, detection),
a reservoir sample (late identifiers), one batch in flight and one row group
being written. The output is written under a temporary name beside the target,
fsynced and renamed; on any error the temporary file is removed and nothing is
left. Raw identifier values exist only in memory: identifier columns are
pseudonymised before anything is written, and what is written is encrypted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.crypto import generate_data_key, unwrap_key, wrap_key
from connectors.errors import NoRows, QuarantineRefused
from connectors.filenames import safe_filename
from connectors.formats import detect_format
from connectors.overlap import WriteBehind, read_ahead
from connectors.pii import DEFAULT_MIN_SHARE, PiiFinding, detect_identifiers
from connectors.plan import (
    Column,
    Reservoir,
    check_late_findings,
    column_pseudonymisers,
    empty_type,
    finish_batch,
    merge_findings,
    plan_columns,
    prepare_batch,
    record_failures,
    type_text_sample,
    typed_table,
)
from connectors.pseudonym import Pseudonymiser, stage1_key
from connectors.quarantine import QuarantineReport
from connectors.readers import DEFAULT_BATCH_ROWS, DEFAULT_MAX_LINE_BYTES, Upload, open_batches
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta, resolve_schema
from connectors.segcrypt import DEFAULT_SEGMENT_BYTES, EncryptedReader, EncryptedWriter
from connectors.store import fsync_dir

__all__ = [
    "IngestOptions",
    "StreamResult",
    "ingest_batches",
    "ingest_file",
    "open_dataset",
    "read_dataset",
    "source_sha256",
]

_HASH_CHUNK = 1 << 20
_COMPRESSION = "zstd"
_WRITE_BUFFER_BYTES = 8 << 20
_DICTIONARY_PAGE_BYTES = 128 << 10


@dataclass(frozen=True)
class IngestOptions:
    """Knobs of one ingest; the defaults suit uploads of any size."""

    batch_rows: int = DEFAULT_BATCH_ROWS
    sample_rows: int = 50_000  # head sample: types and identifier detection
    reservoir_rows: int = 10_000  # random sample over the rest: late identifiers
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_quarantine_share: float = 0.0  # 0: any failed row refuses the upload
    row_group_rows: int = 262_144
    segment_bytes: int = DEFAULT_SEGMENT_BYTES
    min_share: float = DEFAULT_MIN_SHARE


@dataclass(frozen=True)
class StreamResult:
    """A stored dataset version: where, what, and what was found on the way in."""

    path: Path
    rows: int
    columns: list[ColumnSpec]
    findings: list[PiiFinding]
    quarantine: QuarantineReport
    formula_cells: dict[str, int]  # column -> cells starting with = + - @ (kept as text)
    source_sha256: str
    source_bytes: int
    wrapped_key: bytes = field(repr=False)


def source_sha256(source: Upload) -> tuple[str, int]:
    """The sha256 (hex) and size of an upload, read in chunks."""
    digest, size = hashlib.sha256(), 0
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest(), len(source)
    handle: BinaryIO = source.open("rb") if isinstance(source, Path) else source
    try:
        handle.seek(0)
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    finally:
        if isinstance(source, Path):
            handle.close()
        else:
            handle.seek(0)
    return digest.hexdigest(), size


def _head(source: Upload) -> bytes:
    if isinstance(source, bytes):
        return source[:8]
    if isinstance(source, Path):
        with source.open("rb") as handle:
            return handle.read(8)
    source.seek(0)
    head = source.read(8)
    source.seek(0)
    return head


def ingest_file(
    source: Upload,
    filename: str,
    meta: DatasetMeta,
    *,
    master_key: bytes,
    out_path: Path,
    aad: bytes,
    options: IngestOptions | None = None,
    pseudonymiser: Pseudonymiser | None = None,
) -> StreamResult:
    """Stream an upload into an encrypted, pseudonymised Parquet file at ``out_path``.

    ``source`` is a path, a seekable binary file object (such as an
    :class:`~connectors.spool.EncryptedSpool` reader) or bytes; ``filename`` is the
    name it was uploaded under (checked with :func:`safe_filename`; its extension
    helps recognise the format). Columns are typed from a head sample, checked
    against ``meta`` (:func:`resolve_schema`), and identifier columns replaced by
    stage-1 pseudonyms (``pseudonymiser``, default: under
    :func:`~connectors.pseudonym.stage1_key`). Cells that fail validation go to
    the quarantine report; rows holding them are dropped when their share is at
    most ``options.max_quarantine_share``, else QuarantineRefused. A column that
    is not declared as identifier but holds identifiers (head or reservoir
    sample) raises IdentifierFound.

    The file is AES-256-GCM encrypted in segments (:mod:`connectors.segcrypt`)
    under a fresh data key, returned wrapped by ``master_key`` (bound to ``aad``,
    which also binds the file). Read it back with :func:`open_dataset`. On any
    error nothing is left at ``out_path`` or beside it.
    """
    options = options or IngestOptions()
    safe_filename(filename)
    fmt = detect_format(filename, _head(source))
    # A path is hashed on its own handle while the ingest runs (hashlib lets go of
    # the GIL): a whole pass over the file off the critical path. A file object has
    # one position, so it is hashed first.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sluis-hash") as pool:
        hashed = pool.submit(source_sha256, source) if isinstance(source, Path) else None
        digest, size = source_sha256(source) if hashed is None else ("", 0)
        with open_batches(
            source, fmt, batch_rows=options.batch_rows, max_line_bytes=options.max_line_bytes
        ) as stream:
            result = ingest_batches(
                stream.names,
                stream.batches,
                meta,
                master_key=master_key,
                out_path=out_path,
                aad=aad,
                text=stream.text,
                decimal_comma=stream.decimal_comma,
                options=options,
                pseudonymiser=pseudonymiser,
                source_sha256=digest,
                source_bytes=size,
            )
        if hashed is None:
            return result
        try:
            digest, size = hashed.result()
        except BaseException:
            out_path.unlink(missing_ok=True)  # nothing is left when the ingest fails
            raise
    return replace(result, source_sha256=digest, source_bytes=size)


def ingest_batches(
    names: list[str],
    batches: Iterator[pa.RecordBatch],
    meta: DatasetMeta,
    *,
    master_key: bytes,
    out_path: Path,
    aad: bytes,
    text: bool = False,
    decimal_comma: bool = False,
    options: IngestOptions | None = None,
    pseudonymiser: Pseudonymiser | None = None,
    source_sha256: str = "",
    source_bytes: int = 0,
) -> StreamResult:
    """The pipeline of :func:`ingest_file` on batches from elsewhere (e.g. a SQL pull).

    ``batches`` must have the columns ``names`` in order; ``text`` says they are
    text still to be typed (as CSV), else their Arrow types are kept.
    """
    options = options or IngestOptions()
    pseudonymiser = pseudonymiser or Pseudonymiser(stage1_key(master_key))
    data_key = generate_data_key()
    temp = out_path.parent / f".{out_path.name}.tmp-{secrets.token_hex(8)}"
    try:
        # The source is read on one worker thread only (a database cursor may need that).
        with read_ahead(batches) as source:
            result = _stream(
                names,
                source,
                text,
                decimal_comma,
                meta,
                pseudonymiser,
                options,
                temp,
                data_key,
                aad,
            )
        os.replace(temp, out_path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(out_path.parent)
    rows, specs, findings, report, formulas = result
    return StreamResult(
        path=out_path,
        rows=rows,
        columns=specs,
        findings=findings,
        quarantine=report,
        formula_cells=formulas,
        source_sha256=source_sha256,
        source_bytes=source_bytes,
        wrapped_key=wrap_key(master_key, data_key, aad=aad),
    )


def _stream(
    names: list[str],
    batches: Iterator[pa.RecordBatch],
    text: bool,
    decimal_comma: bool,
    meta: DatasetMeta,
    pseudonymiser: Pseudonymiser,
    options: IngestOptions,
    temp: Path,
    data_key: bytes,
    aad: bytes,
) -> tuple[int, list[ColumnSpec], list[PiiFinding], QuarantineReport, dict[str, int]]:
    head: list[pa.RecordBatch] = []
    buffered = 0
    for batch in batches:
        if batch.num_rows:
            head.append(batch)
            buffered += batch.num_rows
        if buffered >= options.sample_rows:
            break
    if buffered == 0:
        raise NoRows("the file has a header but no data rows")
    sample = pa.Table.from_batches(head).slice(0, options.sample_rows)
    typed = type_text_sample(sample, decimal_comma, meta) if text else sample
    findings = detect_identifiers(
        typed, sample_rows=options.sample_rows, min_share=options.min_share
    )
    specs = resolve_schema(typed, meta, findings)
    columns = plan_columns(sample, typed, specs, meta, text)
    reservoir = Reservoir(
        options.reservoir_rows,
        [i for i, c in enumerate(columns) if c.spec.role is not ColumnRole.IDENTIFIER],
    )
    report = QuarantineReport()
    formulas: dict[str, int] = {}
    stored_rows = 0
    # Memoised per identifier column for this ingest only: a recurring person is
    # hashed once, not once per batch (connectors/memo.py).
    hashers = column_pseudonymisers(columns, pseudonymiser)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        sink = EncryptedWriter(
            handle, data_key, aad=aad, segment_bytes=options.segment_bytes, close_sink=False
        )
        # Parquet writes many small pieces: buffer them in Arrow, so the write-behind
        # thread calls into Python (and waits for the GIL) once per few MB.
        out = pa.BufferedOutputStream(pa.PythonFile(sink, mode="w"), _WRITE_BUFFER_BYTES)
        writer: pq.ParquetWriter | None = None
        pending: list[pa.Table] = []
        pending_rows = 0
        behind = WriteBehind()

        def flush() -> None:
            nonlocal writer, pending, pending_rows
            if not pending:
                return
            tables, pending, pending_rows = pending, [], 0
            if writer is None:
                writer = _writer(out, tables[0].schema, columns)
            behind.submit(partial(_write_row_groups, writer, tables, options.row_group_rows))

        try:
            offset = 0
            # The source is parsed a batch ahead (see _run) and row groups are written
            # behind (WriteBehind) while this thread converts and hashes. Converting on
            # a third thread does not pay: its many short Arrow calls would each wait
            # for the GIL (up to the 5 ms switch interval) while this thread hashes.
            for batch in _chain(head, batches):
                if batch.num_rows == 0:
                    continue
                prepared = prepare_batch(batch, columns)
                if offset >= options.sample_rows:
                    reservoir.add(batch)
                for name, failed, reason in prepared.failures:
                    record_failures(report, failed, offset, name, reason)
                for name, hits in prepared.formulas.items():
                    formulas[name] = formulas.get(name, 0) + hits
                arrays = finish_batch(prepared, hashers)
                table = pa.Table.from_arrays(arrays, names=[c.spec.name for c in columns])
                if prepared.failed_any is not None:
                    rejected = int(pc.sum(prepared.failed_any).as_py() or 0)
                    if rejected:
                        report.rejected_rows += rejected
                        table = table.filter(pc.invert(prepared.failed_any))
                report.total_rows += batch.num_rows
                offset += batch.num_rows
                stored_rows += table.num_rows
                pending.append(table)
                pending_rows += table.num_rows
                if pending_rows >= options.row_group_rows:
                    flush()
            if report.rejected_rows and (
                report.rejected_rows == report.total_rows
                or report.share > options.max_quarantine_share
            ):
                raise QuarantineRefused(
                    f"{report.summary()}; fix those rows, or accept dropping them with a "
                    f"quarantine threshold above {report.share:.4f}",
                    report,
                )
            if reservoir.table is not None:
                late_columns = [columns[i] for i in reservoir.columns]
                late_names = [c.spec.name for c in late_columns]
                late_typed = typed_table(reservoir.table.to_batches(), late_names, late_columns)
                late = detect_identifiers(late_typed, min_share=options.min_share)
                check_late_findings(late, meta)
                findings = merge_findings(findings, late)
            flush()
            behind.close()
            if writer is None:  # an empty file still needs the schema
                schema = pa.schema([pa.field(c.spec.name, empty_type(c)) for c in columns])
                writer = _writer(out, schema, columns)
            writer.close()
            out.close()
        except BaseException:
            with contextlib.suppress(BaseException):
                behind.close()
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.close()
            with contextlib.suppress(Exception):
                out.close()  # now, not when collected after the file is closed
            raise
        sink.close()
        handle.flush()
        os.fsync(handle.fileno())
    return stored_rows, specs, findings, report, formulas


def _write_row_groups(
    writer: pq.ParquetWriter, tables: list[pa.Table], row_group_rows: int
) -> None:
    # The writer cuts row groups across chunks itself: no need to copy them into one.
    table = pa.concat_tables(tables)
    writer.write_table(table.cast(writer.schema), row_group_size=row_group_rows)


def _writer(sink: pa.NativeFile, schema: pa.Schema, columns: list[Column]) -> pq.ParquetWriter:
    # Pseudonyms hardly repeat: a dictionary page for them is built only to be dropped.
    # Stored with their lengths apart (all 32) instead of one before each value, they
    # compress smaller, for less CPU than plain encoding (Arrow and DuckDB read it).
    identifiers = {c.spec.name for c in columns if c.spec.role is ColumnRole.IDENTIFIER}
    return pq.ParquetWriter(
        sink,
        schema,
        compression=_COMPRESSION,
        use_dictionary=[name for name in schema.names if name not in identifiers],
        # Arrow grows a column's dictionary up to 1 MiB before it gives up on it: for
        # amounts (mostly distinct) that is wasted work and a larger file. 128 KiB
        # still holds 16k numbers or category labels, which is where a dictionary pays.
        dictionary_pagesize_limit=_DICTIONARY_PAGE_BYTES,
        column_encoding={
            name: "DELTA_LENGTH_BYTE_ARRAY"
            for name in identifiers
            if pa.types.is_string(schema.field(name).type)
        },
    )


def _chain(head: list[pa.RecordBatch], rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield from head
    yield from rest


def open_dataset(
    path: Path, wrapped_key: bytes, master_key: bytes, *, aad: bytes
) -> pq.ParquetFile:
    """Open a stored dataset for streaming reads (``iter_batches``, ``read``, metadata).

    Decrypts segment by segment as Parquet reads; DecryptionFailed on a wrong key,
    wrong ``aad`` or any tampering with the file or the wrapped key.
    """
    data_key = unwrap_key(master_key, wrapped_key, aad=aad)
    reader = EncryptedReader(path.open("rb"), data_key, aad=aad)
    return pq.ParquetFile(reader)


def read_dataset(path: Path, wrapped_key: bytes, master_key: bytes, *, aad: bytes) -> pa.Table:
    """Read a whole stored dataset into memory (small datasets, tests)."""
    parquet = open_dataset(path, wrapped_key, master_key, aad=aad)
    try:
        return parquet.read()
    finally:
        parquet.close()
