"""From an uploaded file to a validated, pseudonymised table ready to be stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import SchemaError
from connectors.formats import Source, detect_format, read_table
from connectors.pii import PiiFinding, detect_identifiers
from connectors.pseudonym import Pseudonymiser
from connectors.schema import ARROW_TYPES, ColumnRole, ColumnSpec, DatasetMeta, resolve_schema

__all__ = ["IngestResult", "prepare_dataset"]

_HEAD_BYTES = 8
_CHUNK_BYTES = 1 << 20
_DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")


@dataclass(frozen=True)
class IngestResult:
    """A prepared dataset: the table to store (identifiers pseudonymised) and what was found."""

    table: pa.Table
    columns: list[ColumnSpec]
    findings: list[PiiFinding]
    rows: int
    source_sha256: str


def _sha256(source: Source) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256()
    with source.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _read_head(source: Source) -> bytes:
    if isinstance(source, bytes):
        return source[:_HEAD_BYTES]
    with source.open("rb") as handle:
        return handle.read(_HEAD_BYTES)


def _parse_dates(spec: ColumnSpec, data: pa.ChunkedArray) -> pa.ChunkedArray:
    text = pc.utf8_trim_whitespace(data.cast(pa.string()))
    present = len(text) - text.null_count
    for fmt in _DATE_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        if len(parsed) - parsed.null_count == present:
            return parsed.cast(pa.date32())
    raise SchemaError(
        f"column {spec.name!r} has role 'date' but not all its values are dates "
        "(YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY)",
        column=spec.name,
    )


def _arrow_type(spec: ColumnSpec, current: pa.DataType) -> pa.DataType:
    if spec.type == "timestamp":
        return pa.timestamp("us", tz=current.tz)
    return ARROW_TYPES[spec.type]


def _convert(spec: ColumnSpec, data: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_dictionary(data.type):
        data = data.cast(data.type.value_type)
    if spec.type == "date" and not pa.types.is_temporal(data.type):
        return _parse_dates(spec, data)
    try:
        return data.cast(_arrow_type(spec, data.type))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Arrow's message may quote a value, so it is not passed on.
        raise SchemaError(
            f"column {spec.name!r} cannot be stored as {spec.type}", column=spec.name
        ) from None


def prepare_dataset(
    source: Source, filename: str, meta: DatasetMeta, pseudonymiser: Pseudonymiser
) -> IngestResult:
    """Validate an uploaded file against ``meta`` and pseudonymise its identifier columns.

    Reads the upload at ``source``, a path or the bytes held in memory
    (``filename`` is the name it was uploaded under,
    used for its extension), detects identifiers, resolves the schema and
    returns the table to store: every ``identifier`` column replaced by
    pseudonyms, every other column cast to its resolved type. Raises an
    IngestError subclass when the upload is refused. Size limits, encryption
    and storage are the caller's.
    """
    source_sha256 = _sha256(source)
    table = read_table(source, detect_format(filename, _read_head(source)))
    findings = detect_identifiers(table)
    specs = resolve_schema(table, meta, findings)
    columns: list[pa.Array | pa.ChunkedArray] = []
    for index, spec in enumerate(specs):
        data = table.column(index)
        if spec.role is ColumnRole.IDENTIFIER:
            columns.append(pseudonymiser.pseudonymise(data))
        else:
            columns.append(_convert(spec, data))
    stored = pa.Table.from_arrays(columns, names=[spec.name for spec in specs])
    return IngestResult(stored, specs, findings, stored.num_rows, source_sha256)
