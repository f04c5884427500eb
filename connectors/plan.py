"""Per-column plans for the streaming ingest: typing, conversion, quarantine, samples.

A plan is fixed from the head sample; every batch is then converted cell by
cell against it, failed cells reported by row and column (never by value).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.errors import IdentifierFound, SchemaError
from connectors.inference import convert_text, infer_text_type, parse_dates, pick_date_format
from connectors.memo import DEFAULT_MAX_BYTES
from connectors.pii import PiiFinding
from connectors.pseudonym import Pseudonymiser
from connectors.quarantine import QuarantineReport
from connectors.schema import ARROW_TYPES, STRONG_DETECTORS, ColumnRole, ColumnSpec, DatasetMeta

__all__ = [
    "FORMULA_FIRST_CHARACTERS",
    "Column",
    "PreparedBatch",
    "Reservoir",
    "check_late_findings",
    "column_pseudonymisers",
    "convert_column",
    "empty_type",
    "finish_batch",
    "formula_count",
    "merge_findings",
    "plan_columns",
    "prepare_batch",
    "record_failures",
    "type_text_sample",
    "typed_table",
]

FORMULA_FIRST_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets may run
_FORMULA_FIRST = pa.array(FORMULA_FIRST_CHARACTERS)
_FORMULA_BYTES = np.array([ord(c) for c in FORMULA_FIRST_CHARACTERS], np.uint8)
_EMPTY_ENTITY = "empty entity key"
_REASONS = {
    "integer": "not a number",
    "float": "not a number",
    "decimal_comma": "not a decimal number",
    "boolean": "not true or false",
    "date": "not a date (YYYY-MM-DD)",
    "timestamp": "not a timestamp (YYYY-MM-DD HH:MM:SS)",
}


@dataclass
class Column:
    """How one column is stored: its spec and, for text sources, how it is parsed."""

    spec: ColumnSpec
    text_type: str | None  # text sources: the inferred type; None: a typed source
    date_format: str | None = None
    entity: bool = False


def _to_text(values: pa.Array) -> pa.Array:
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    return values.cast(pa.string())


def convert_column(
    column: Column, values: pa.Array, pseudonymiser: Pseudonymiser | None
) -> tuple[pa.Array, pa.Array | None, str]:
    """(stored values, mask of failed cells or None, reason for a failure)."""
    spec = column.spec
    if spec.role is ColumnRole.IDENTIFIER:
        if pseudonymiser is None:  # a detection sample: identifiers stay in memory only
            return _to_text(values), None, ""
        stored = pseudonymiser.pseudonymise(values)
        failed = pc.is_null(stored) if column.entity else None
        return stored, failed, _EMPTY_ENTITY
    if column.date_format is not None:
        stored, failed = parse_dates(_to_text(values), column.date_format)
        return stored, failed, "not a date"
    if column.text_type == "string":  # kept as uploaded: no cell can fail
        return values, None, ""
    if column.text_type is not None:
        stored, failed = convert_text(values, column.text_type)
        return stored, failed, _REASONS.get(column.text_type, "wrong type")
    return values, None, ""


@dataclass
class PreparedBatch:
    """A batch converted by :func:`prepare_batch`; identifier columns still to hash.

    ``arrays`` holds the stored columns, except that identifier columns are still
    their normalised, dictionary-encoded text (see :func:`finish_batch`).
    """

    batch: pa.RecordBatch
    arrays: list[pa.Array]
    failures: list[tuple[str, pa.Array, str]]  # (column, mask of failed cells, reason)
    failed_any: pa.Array | None  # rows with any failed cell
    formulas: dict[str, int]  # column -> formula cells in this batch


def prepare_batch(batch: pa.RecordBatch, columns: list[Column]) -> PreparedBatch:
    """Everything of a batch's conversion but the HMAC (pure Arrow, GIL released).

    Identifier columns come back normalised and dictionary-encoded, so that
    :func:`finish_batch` hashes each distinct value of the batch once.
    """
    arrays: list[pa.Array] = []
    failures: list[tuple[str, pa.Array, str]] = []
    failed_any: pa.Array | None = None
    formulas: dict[str, int] = {}
    for index, column in enumerate(columns):
        values = batch.column(index)
        name = column.spec.name
        if column.spec.role is ColumnRole.IDENTIFIER:
            stored: pa.Array = Pseudonymiser.normalise(values)
            failed = pc.is_null(stored) if column.entity else None
            reason = _EMPTY_ENTITY
        else:
            stored, failed, reason = convert_column(column, values, None)
            hits = formula_count(stored)
            if hits:
                formulas[name] = hits
        if failed is not None:
            failures.append((name, failed, reason))
            failed_any = failed if failed_any is None else pc.or_(failed_any, failed)
        arrays.append(stored)
    return PreparedBatch(batch, arrays, failures, failed_any, formulas)


def column_pseudonymisers(
    columns: list[Column], pseudonymiser: Pseudonymiser, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[Pseudonymiser | None]:
    """For one ingest: a memoised pseudonymiser per identifier column, None for the rest.

    A person recurs across batches, so each distinct value is hashed once per
    ingest rather than once per batch. One memo per column, so a column of
    all-distinct values switches its own memo off without disturbing another;
    they share ``max_bytes``. The memos go when the list does.
    """
    identifiers = sum(column.spec.role is ColumnRole.IDENTIFIER for column in columns)
    share = max_bytes // max(identifiers, 1)
    return [
        pseudonymiser.memoised(max_bytes=share)
        if column.spec.role is ColumnRole.IDENTIFIER
        else None
        for column in columns
    ]


def finish_batch(
    prepared: PreparedBatch, pseudonymisers: list[Pseudonymiser | None]
) -> list[pa.Array]:
    """The stored columns of a prepared batch: identifier columns pseudonymised.

    ``pseudonymisers`` has one entry per column (see :func:`column_pseudonymisers`):
    a pseudonymiser for an identifier column, else None.
    """
    return [
        values if pseudonymiser is None else pseudonymiser.hash_encoded(values)
        for pseudonymiser, values in zip(pseudonymisers, prepared.arrays, strict=True)
    ]


def formula_count(values: pa.Array) -> int:
    """Cells starting with = + - @ tab or CR: kept as text, counted so exports escape them."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return 0
    if isinstance(values, pa.StringArray) and values.buffers()[2] is not None:
        # Every formula character is one byte, and UTF-8 never uses a byte below
        # 0x80 inside another character: the first byte of each cell decides.
        bounds = np.frombuffer(values.buffers()[1], np.int32, len(values) + 1, values.offset * 4)
        data = np.frombuffer(values.buffers()[2], np.uint8)
        starts = bounds[:-1][np.diff(bounds) > 0]
        hit = np.isin(data[starts], _FORMULA_BYTES)
        if values.null_count and hit.any():  # a null cell's bytes are not its value
            valid = np.asarray(values.is_valid())[np.diff(bounds) > 0]
            hit &= valid
        return int(hit.sum())
    # The first character against a set: much cheaper than a regex per cell.
    first = pc.utf8_slice_codeunits(values, 0, 1)
    hits = pc.sum(pc.is_in(first, value_set=_FORMULA_FIRST)).as_py()
    return int(hits or 0)


def typed_table(batches: list[pa.RecordBatch], names: list[str], columns: list[Column]) -> pa.Table:
    """Batches converted without pseudonymising (for detection); failed cells become null."""
    table = pa.Table.from_batches(batches)
    arrays = []
    for index, column in enumerate(columns):
        values = table.column(index).combine_chunks()
        stored, _failed, _reason = convert_column(column, values, None)
        arrays.append(stored)
    return pa.Table.from_arrays(arrays, names=names)


def _measure_type(values: pa.Array, decimal_comma: bool) -> str:
    """A declared measure: the numeric type most values fit; the rest are quarantined."""
    best, best_fits = "string", 0
    candidates = ["integer", "float"] + (["decimal_comma"] if decimal_comma else [])
    present = len(values) - values.null_count
    for text_type in candidates:
        converted, _failed = convert_text(values, text_type)
        fits = len(converted) - converted.null_count
        if fits == present:
            return text_type
        if fits > best_fits:
            best, best_fits = text_type, fits
    return best


def type_text_sample(sample: pa.Table, decimal_comma: bool, meta: DatasetMeta) -> pa.Table:
    """Type a text sample by inference (the spec's types come from this table).

    Strict (every sampled value must fit) except for declared measures, where a
    stray non-number should be quarantined rather than turn the column to text.
    """
    arrays = []
    for index, name in enumerate(sample.column_names):
        values = sample.column(index).combine_chunks()
        if meta.columns.get(name) is ColumnRole.MEASURE:
            text_type = _measure_type(values, decimal_comma)
        else:
            text_type = infer_text_type(values, decimal_comma=decimal_comma)
        arrays.append(convert_text(values, text_type)[0])
    return pa.Table.from_arrays(arrays, names=sample.column_names)


def plan_columns(
    sample: pa.Table, typed: pa.Table, specs: list[ColumnSpec], meta: DatasetMeta, text: bool
) -> list[Column]:
    """Fix each column's conversion from the head sample and the resolved specs."""
    columns = []
    for index, spec in enumerate(specs):
        raw = sample.column(index)
        text_type: str | None = None
        if text:
            arrow_type = typed.column(index).type
            text_type = _text_type_of(arrow_type, raw)
        date_format = None
        if spec.role is ColumnRole.DATE and spec.type == "date":
            source_type = typed.column(index).type
            if pa.types.is_string(source_type) or pa.types.is_large_string(source_type):
                date_format = pick_date_format(raw)
                if date_format is None:
                    raise SchemaError(
                        f"column {spec.name!r} has role 'date' but its values are not dates "
                        "(YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY or YYYYMMDD)",
                        column=spec.name,
                    )
        columns.append(
            Column(spec, text_type, date_format, entity=spec.name in meta.entity_columns)
        )
    return columns


def _text_type_of(arrow_type: pa.DataType, raw: pa.ChunkedArray) -> str:
    if arrow_type == pa.float64():
        present = pc.utf8_trim_whitespace(raw).drop_null()
        return (
            "float"
            if pc.all(pc.match_substring_regex(present, r"^[^,]*$")).as_py()
            else ("decimal_comma")
        )
    names = {
        pa.int64(): "integer",
        pa.bool_(): "boolean",
        pa.date32(): "date",
        pa.timestamp("us"): "timestamp",
    }
    return names.get(arrow_type, "string")


def check_late_findings(findings: list[PiiFinding], meta: DatasetMeta) -> None:
    """Apply resolve_schema's refusal rules to findings from the reservoir sample."""
    for finding in sorted(findings, key=lambda f: -f.share):
        role = meta.columns.get(finding.column)
        if role is None:
            raise IdentifierFound(finding.column, finding.detector)
        if role is not ColumnRole.IDENTIFIER and finding.detector in STRONG_DETECTORS:
            raise IdentifierFound(finding.column, finding.detector, str(role))


def merge_findings(head: list[PiiFinding], late: list[PiiFinding]) -> list[PiiFinding]:
    """Head and reservoir findings, one per (column, detector), the larger share kept."""
    best: dict[tuple[str, str], PiiFinding] = {}
    for finding in [*head, *late]:
        key = (finding.column, finding.detector)
        if key not in best or finding.share > best[key].share:
            best[key] = finding
    return list(best.values())


class Reservoir:
    """An approximately uniform random sample of rows, of bounded size."""

    def __init__(self, size: int, columns: list[int]) -> None:
        self.size, self.columns = size, columns
        self.seen = 0
        self.table: pa.Table | None = None
        self._random = np.random.default_rng(secrets.randbits(64))

    def _pick(self, n: int, k: int) -> pa.Array:
        # Draws with replacement, duplicates dropped: O(k), and near enough for detection.
        return pa.array(np.unique(self._random.integers(0, n, size=k)))

    def add(self, batch: pa.RecordBatch) -> None:
        """Offer a batch's rows to the sample."""
        if not self.columns or self.size == 0:
            return
        self.seen += batch.num_rows
        keep = min(batch.num_rows, max(1, self.size * batch.num_rows // self.seen))
        part = pa.Table.from_batches(
            [batch.select(self.columns).take(self._pick(batch.num_rows, keep))]
        )
        table = part if self.table is None else pa.concat_tables([self.table, part])
        if table.num_rows > self.size:
            table = table.take(self._pick(table.num_rows, self.size))
        self.table = table.combine_chunks()


def record_failures(
    report: QuarantineReport, failed: pa.Array, offset: int, column: str, reason: str
) -> None:
    """Count a column's failed cells and keep the first row numbers (1-based data rows)."""
    count = int(pc.sum(failed).as_py() or 0)
    if count == 0:
        return
    room = report.max_entries - len(report.entries)
    rows = pc.indices_nonzero(failed).slice(0, max(room, 0)).to_pylist() if room > 0 else []
    for row in rows:
        report.add(offset + row + 1, column, reason)
    report.by_column[column] = report.by_column.get(column, 0) + count - len(rows)
    if count > len(rows):
        report.truncated = True


def empty_type(column: Column) -> pa.DataType:
    """The Arrow type of a column in a file with no stored rows."""
    return ARROW_TYPES[column.spec.type]
