"""Streaming readers: an upload as an iterator of Arrow record batches, in bounded memory.

CSV, JSON Lines and XLSX come out as text columns (types are inferred later
from a sample, so a late odd value is quarantined rather than failing the read);
Parquet keeps its own flat types. Parser messages are never passed on: they
can quote the offending data.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from connectors.errors import (
    BadColumnName,
    EmptyFile,
    InvalidEncoding,
    LineTooLong,
    MalformedCsv,
    NestedType,
    UnreadableFile,
)
from connectors.formats import FileFormat, sniff_delimiter

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "DEFAULT_MAX_LINE_BYTES",
    "MAX_COLUMN_NAME_CHARS",
    "BatchStream",
    "Upload",
    "check_column_names",
    "detect_encoding",
    "open_batches",
]

DEFAULT_BATCH_ROWS = 65_536
DEFAULT_MAX_LINE_BYTES = 4 << 20
MAX_COLUMN_NAME_CHARS = 100
_HEAD_BYTES = 64 * 1024
_ROW_WIDTH = re.compile(r"(?:Row #(\d+): )?Expected (\d+) columns, got (\d+)")

# An upload: a path, a seekable binary file object (e.g. an encrypted spool), or bytes.
Upload = Path | bytes | BinaryIO


@dataclass
class BatchStream:
    """An opened upload: column names, and batches whose columns follow them in order.

    ``text`` is true when every column is text still to be typed (CSV, JSON Lines,
    XLSX); ``decimal_comma`` when a comma can be a decimal separator (CSV with
    another delimiter, XLSX never). Call :meth:`close` (or use ``with``) when done.
    """

    names: list[str]
    batches: Iterator[pa.RecordBatch]
    text: bool
    decimal_comma: bool = False
    encoding: str = "utf-8"
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Release the underlying file handles."""
        for closer in self._closers:
            with contextlib.suppress(Exception):
                closer()
        self._closers.clear()

    def __enter__(self) -> BatchStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_column_names(names: list[str]) -> list[str]:
    """Strip names and refuse empty, over-long or duplicate ones (ignoring case)."""
    stripped = [name.strip() for name in names]
    seen: set[str] = set()
    for position, name in enumerate(stripped, start=1):
        if not name:
            raise BadColumnName(f"column {position} has an empty name; give every column a name")
        if len(name) > MAX_COLUMN_NAME_CHARS:
            raise BadColumnName(
                f"column {position} has a name over {MAX_COLUMN_NAME_CHARS} characters"
            )
        # Query engines such as DuckDB fold case, so "Naam" and "naam" would clash.
        if name.casefold() in seen:
            raise BadColumnName(f"column {name!r} appears more than once", column=name)
        seen.add(name.casefold())
    return stripped


def open_upload(source: Upload) -> tuple[BinaryIO, bool]:
    """A binary file object at offset 0, and whether the caller must close it."""
    if isinstance(source, Path):
        return source.open("rb"), True
    if isinstance(source, bytes):
        return io.BytesIO(source), True
    source.seek(0)
    return source, False


def _head(handle: BinaryIO) -> bytes:
    head = handle.read(_HEAD_BYTES)
    handle.seek(0)
    return head


# A two- to four-byte UTF-8 sequence (lead byte, then continuation bytes).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def detect_encoding(head: bytes) -> str:
    """Name the Python codec of a text file from its first bytes.

    A byte order mark decides (UTF-8, UTF-16); else UTF-8 when the bytes decode
    as UTF-8, else cp1252 (Windows Western European), else latin-1. Raises
    InvalidEncoding for NUL bytes without a UTF-16 byte order mark.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        raise InvalidEncoding(
            "the file holds NUL bytes: it is binary, or UTF-16 without a byte order mark; "
            "save it as UTF-8"
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _UTF8_MULTIBYTE.search(head):
        # Well-formed UTF-8 characters next to bytes that are not UTF-8: two encodings
        # in one file. Reading it as cp1252 would garble the UTF-8 part silently.
        raise InvalidEncoding(
            "the file mixes UTF-8 with another encoding (e.g. Windows-1252); "
            "save the whole file as UTF-8"
        )
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _decoded_head(head: bytes, encoding: str, complete: bool) -> str:
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    if not complete:
        text = text.rpartition("\n")[0]  # drop a partly read last line
    return text


def _csv_header(head: str, delimiter: str, max_line: int) -> list[str]:
    first = head.split("\n", 1)[0]
    if "\n" not in head and len(head) >= max_line:
        raise LineTooLong(f"the header line is longer than {max_line} bytes")
    for row in csv.reader([first.rstrip("\r")], delimiter=delimiter):
        return row
    return []


def _arrow_error(exc: pa.ArrowException, line: list[int | None], max_line: int) -> Exception:
    message = str(exc)
    if "straddl" in message:
        return LineTooLong(
            f"a line is longer than {max_line} bytes; split long text fields or remove them"
        )
    if "UTF8" in message or "UTF-8" in message:
        return InvalidEncoding(
            "the file mixes text encodings or holds invalid characters; save it as UTF-8"
        )
    width = _ROW_WIDTH.search(message)
    if width is not None:
        number = width.group(1) or (str(line[0]) if line and line[0] is not None else None)
        where = f"line {number}" if number else "a line"  # "a line has" marks it unknown
        found = int(width.group(3))
        return MalformedCsv(
            f"{where} has {found} field{'' if found == 1 else 's'} where the header has "
            f"{width.group(2)}; check quoting and delimiters on that line"
        )
    return UnreadableFile("the file could not be parsed as CSV")


def _open_csv(source: Upload, max_line: int, batch_rows: int) -> BatchStream:
    handle, owned = open_upload(source)
    head = _head(handle)
    if not head.strip():
        if owned:
            handle.close()
        raise EmptyFile("the file is empty; upload a file with a header line and data rows")
    encoding = detect_encoding(head)
    text = _decoded_head(head, encoding, complete=len(head) < _HEAD_BYTES)
    delimiter = sniff_delimiter(text)
    raw_names = _csv_header(text, delimiter, max_line)
    try:
        names = check_column_names(raw_names)
    except Exception:
        if owned:
            handle.close()
        raise
    line: list[int | None] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        line.append(row.number)
        return "error"

    # Arrow would name columns by the raw header: use positional placeholders.
    placeholders = [f"c{i}" for i in range(len(names))]
    arrow_encoding = {"utf-8": "utf8", "utf-8-sig": "utf8"}.get(encoding, encoding)

    def make_reader(use_threads: bool) -> pa_csv.CSVStreamingReader:
        handle.seek(0)
        arrow_source: Any = str(source) if isinstance(source, Path) else handle
        return pa_csv.open_csv(
            arrow_source,
            read_options=pa_csv.ReadOptions(
                block_size=max_line,
                encoding=arrow_encoding,
                column_names=placeholders,
                skip_rows=1,
                use_threads=use_threads,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
            ),
            # Every column as text: Arrow's inference drops leading zeros.
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(placeholders, pa.string()), strings_can_be_null=True
            ),
        )

    def failure(exc: Exception) -> Exception:
        if isinstance(exc, UnicodeDecodeError):
            return InvalidEncoding(f"the file is not valid {encoding} text; save it as UTF-8")
        assert isinstance(exc, pa.ArrowException)
        error = _arrow_error(exc, line, max_line)
        if isinstance(error, MalformedCsv) and "a line has" in str(error):
            # Only a single-threaded parse knows the line number: parse again to find it.
            line.clear()
            with contextlib.suppress(Exception):
                for _batch in make_reader(use_threads=False):
                    pass
            if line and line[0] is not None:
                error = _arrow_error(exc, line, max_line)
        return error

    try:
        reader = make_reader(use_threads=True)
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        error = failure(exc)
        if owned:
            handle.close()
        raise error from None

    def batches() -> Iterator[pa.RecordBatch]:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowException, UnicodeDecodeError) as exc:
                raise failure(exc) from None
            named = pa.RecordBatch.from_arrays(batch.columns, names=names)
            for start in range(0, named.num_rows, batch_rows):
                yield named.slice(start, batch_rows)

    closers: list[Callable[[], None]] = [reader.close]
    if owned:
        closers.append(handle.close)
    return BatchStream(
        names,
        batches(),
        text=True,
        decimal_comma=delimiter != ",",
        encoding=encoding,
        _closers=closers,
    )


def _is_nested(arrow_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_nested(arrow_type)
        or (pa.types.is_dictionary(arrow_type) and _is_nested(arrow_type.value_type))
    )


def _open_parquet(source: Upload, batch_rows: int) -> BatchStream:
    handle, owned = open_upload(source)
    try:
        parquet = pq.ParquetFile(handle)
        schema = parquet.schema_arrow
    except (pa.ArrowException, OSError):
        if owned:
            handle.close()
        raise UnreadableFile("the file could not be read as Parquet") from None
    try:
        for arrow_field in schema:
            if _is_nested(arrow_field.type):
                raise NestedType(
                    f"column {arrow_field.name!r} holds nested values (lists, structs or maps); "
                    "flatten it into plain columns",
                    column=arrow_field.name,
                )
        names = check_column_names(list(schema.names))
    except Exception:
        if owned:
            handle.close()
        raise

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in parquet.iter_batches(batch_size=batch_rows):
                yield pa.RecordBatch.from_arrays(batch.columns, names=names)
        except (pa.ArrowException, OSError):
            raise UnreadableFile("the file could not be read as Parquet") from None

    closers: list[Callable[[], None]] = [parquet.close]
    if owned:
        closers.append(handle.close)
    return BatchStream(names, batches(), text=False, _closers=closers)


def text_batch(columns: list[list[str | None]], names: list[str]) -> pa.RecordBatch:
    """A record batch of text columns from Python lists."""
    return pa.RecordBatch.from_arrays(
        [pa.array(column, type=pa.string()) for column in columns], names=names
    )


def open_batches(
    source: Upload,
    fmt: FileFormat,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> BatchStream:
    """Open an upload for streaming reads in its format.

    CSV: encoding detected (byte order mark, UTF-8, cp1252, latin-1; transcoded on
    the fly), delimiter sniffed, quoted fields may hold newlines, lines capped at
    ``max_line_bytes``. Parquet: nested columns refused. JSON Lines: one flat object
    per line, the first line fixes the fields. XLSX: the first sheet, within the
    zip-bomb limits of :mod:`connectors.xlsx`. Raises an IngestError subclass
    (here or while iterating) when the upload cannot be read.
    """
    if fmt is FileFormat.CSV:
        return _open_csv(source, max_line_bytes, batch_rows)
    if fmt is FileFormat.PARQUET:
        return _open_parquet(source, batch_rows)
    if fmt is FileFormat.JSONL:
        from connectors.jsonl import open_jsonl  # jsonl imports this module

        return open_jsonl(source, batch_rows, max_line_bytes)
    from connectors.xlsx import open_xlsx  # keeps calamine off the CSV path

    handle, owned = open_upload(source)
    try:
        names, rows = open_xlsx(handle)
        names = check_column_names(names)
    finally:
        if owned:
            handle.close()

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(rows[0]) if rows else 0, batch_rows):
            yield text_batch([column[start : start + batch_rows] for column in rows], names)

    return BatchStream(names, batches(), text=True)
