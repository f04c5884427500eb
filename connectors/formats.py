"""Recognising and reading upload formats into Arrow tables.

Parser messages are never passed on: they can quote the offending data.
"""

from __future__ import annotations

import codecs
import csv
import re
from enum import StrEnum
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from connectors.errors import SchemaError, UnreadableFile, UnsupportedFormat
from connectors.inference import infer_column

__all__ = ["FileFormat", "Source", "detect_format", "read_table", "sniff_delimiter"]

_SNIFF_BYTES = 64 * 1024
_SNIFF_LINES = 20
_DELIMITERS = (",", ";", "\t", "|")
_ROW_WIDTH = re.compile(r"Expected (\d+) columns, got (\d+)")


# An upload: a file on disk, or the bytes of one held in memory.
Source = Path | bytes


class FileFormat(StrEnum):
    """An upload format Sluis recognises."""

    CSV = "csv"
    PARQUET = "parquet"
    XLSX = "xlsx"
    JSONL = "jsonl"


_MAGIC: tuple[tuple[bytes, FileFormat], ...] = (
    (b"PAR1", FileFormat.PARQUET),
    (b"PK\x03\x04", FileFormat.XLSX),
)
_EXTENSIONS: dict[str, FileFormat] = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".parquet": FileFormat.PARQUET,
    ".xlsx": FileFormat.XLSX,
}


def detect_format(filename: str, head: bytes) -> FileFormat:
    """Recognise a format by its magic bytes, else by the file name's extension.

    Raises UnsupportedFormat when neither identifies an accepted format.
    """
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    suffix = Path(filename).suffix.lower()
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    accepted = ", ".join(sorted(_EXTENSIONS))
    raise UnsupportedFormat(f"unrecognised file format; accepted extensions: {accepted}")


def sniff_delimiter(head: str) -> str:
    """Pick the delimiter among , ; tab | that splits the first lines most consistently.

    The best candidate gives the same field count (more than one) on every line;
    ties go to the most fields, then to the order above. Defaults to a comma.
    """
    lines = head.splitlines()[:_SNIFF_LINES]
    best, best_score = ",", (False, 1)
    for delimiter in _DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if row]
        if not widths or widths[0] < 2:
            continue
        score = (all(width == widths[0] for width in widths), widths[0])
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _readable(source: Source) -> str | pa.BufferReader:
    """What Arrow readers take: a path, or an in-memory buffer (uploads never touch disk raw)."""
    return str(source) if isinstance(source, Path) else pa.BufferReader(source)


def _read_head(source: Source) -> str:
    if isinstance(source, Path):
        with source.open("rb") as handle:
            raw = handle.read(_SNIFF_BYTES + 1)
    else:
        raw = source[: _SNIFF_BYTES + 1]
    complete = len(raw) <= _SNIFF_BYTES
    raw = raw[:_SNIFF_BYTES].removeprefix(codecs.BOM_UTF8)
    text = raw.decode("utf-8", errors="replace")
    if not complete:
        text = text.rpartition("\n")[0]  # drop a partly read last line
    return text


def _header(head: str, delimiter: str) -> list[str]:
    for row in csv.reader(head.splitlines()[:1], delimiter=delimiter):
        return row
    return []


def _parse_csv(source: Source, delimiter: str, header: list[str], *, use_threads: bool) -> pa.Table:
    line: list[int | None] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        line.append(row.number)
        return "error"

    try:
        return pa_csv.read_csv(
            _readable(source),
            read_options=pa_csv.ReadOptions(use_threads=use_threads),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, invalid_row_handler=on_invalid_row
            ),
            # Everything as text first: Arrow's inference drops leading zeros.
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
            ),
        )
    except pa.ArrowException as exc:
        message = str(exc)
        if message.startswith("Empty CSV file"):
            raise SchemaError("the file is empty") from None
        if "invalid UTF8" in message:
            raise UnreadableFile("the file is not valid UTF-8 text; save it as UTF-8") from None
        width = _ROW_WIDTH.search(message)
        if width is None:
            raise UnreadableFile("the file could not be parsed as CSV") from None
        if line and line[0] is None and use_threads:
            # Only a single-threaded parse knows the line number.
            return _parse_csv(source, delimiter, header, use_threads=False)
        where = f"line {line[0]}" if line and line[0] is not None else "a row"
        found = int(width.group(2))
        raise UnreadableFile(
            f"{where} has {found} field{'' if found == 1 else 's'} "
            f"where the header has {width.group(1)}"
        ) from None


def _read_csv(source: Source) -> pa.Table:
    head = _read_head(source)
    delimiter = sniff_delimiter(head)
    table = _parse_csv(source, delimiter, _header(head, delimiter), use_threads=True)
    columns = []
    for index, field in enumerate(table.schema):
        data = table.column(index)
        if pa.types.is_string(field.type):
            data = infer_column(data, decimal_comma=delimiter != ",")
        columns.append(data)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _read_parquet(source: Source) -> pa.Table:
    try:
        return pq.read_table(_readable(source))
    except (pa.ArrowException, OSError):
        raise UnreadableFile("the file could not be read as Parquet") from None


def _check_columns(table: pa.Table) -> pa.Table:
    names = [name.strip() for name in table.column_names]
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise SchemaError(f"column {position} has an empty name")
        # Query engines such as DuckDB fold case, so "Naam" and "naam" would clash.
        if name.casefold() in seen:
            raise SchemaError(f"column {name!r} appears more than once", column=name)
        seen.add(name.casefold())
    if table.num_rows == 0:
        raise SchemaError("the file has no data rows")
    return table.rename_columns(names)


def read_table(source: Source, fmt: FileFormat) -> pa.Table:
    """Read an upload into an Arrow table; column names are stripped of surrounding spaces.

    CSV must be UTF-8 (a byte order mark is ignored); its delimiter is sniffed.
    XLSX and JSON Lines are read through :mod:`connectors.readers` and typed like
    CSV. Raises UnreadableFile when the file cannot be parsed, and SchemaError
    when it has no rows or an empty or duplicate column name. This reads the
    whole file into memory: large uploads go through :mod:`connectors.pipeline`.
    """
    if fmt is FileFormat.CSV:
        table = _read_csv(source)
    elif fmt is FileFormat.PARQUET:
        table = _read_parquet(source)
    else:
        table = _read_streamed(source, fmt)
    return _check_columns(table)


def _read_streamed(source: Source, fmt: FileFormat) -> pa.Table:
    """XLSX and JSON Lines through the streaming readers, typed like CSV."""
    from connectors.readers import open_batches  # the readers import this module

    with open_batches(source, fmt) as stream:
        batches = list(stream.batches)
        names = stream.names
    if not batches:
        return pa.table({name: pa.array([], pa.string()) for name in names})
    table = pa.Table.from_batches(batches)
    columns = [infer_column(table.column(i), decimal_comma=False) for i in range(len(names))]
    return pa.Table.from_arrays(columns, names=names)
