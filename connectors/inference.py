"""Type inference for CSV columns read as text.

Unlike Arrow's own inference it keeps digit strings with a leading zero (phone
numbers, BSNs, codes) as text, and reads a decimal comma when commas do not delimit.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DATE_FORMATS",
    "TEXT_TYPES",
    "convert_text",
    "infer_column",
    "infer_text_type",
    "parse_dates",
    "pick_date_format",
    "text_arrow_type",
]

_INTEGER = r"^[+-]?(?:0|[1-9][0-9]{0,17})$"
_FLOAT = r"^[+-]?(?:(?:0|[1-9][0-9]*)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_DECIMAL_COMMA = r"^[+-]?(?:0|[1-9][0-9]*)(?:,[0-9]+)?$"
_BOOLEAN = r"^(?i:true|false)$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TIMESTAMP = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,9})?)?$"


def _all_match(values: pa.ChunkedArray, pattern: str) -> bool:
    matched: bool = pc.all(pc.match_substring_regex(values, pattern)).as_py()
    return matched


def _try_cast(values: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray | None:
    try:
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # e.g. 2023-02-30: keep the column as text


def infer_column(values: pa.ChunkedArray, *, decimal_comma: bool) -> pa.ChunkedArray:
    """Give a text column the narrowest type all its non-null values fit, else keep it text.

    Tries, in order: integer (no leading zeros, at most 18 digits), float,
    float with a decimal comma (only if ``decimal_comma``), boolean (true/false),
    ISO date, ISO timestamp without time zone.
    """
    trimmed = pc.utf8_trim_whitespace(values)
    unsigned = pc.replace_substring_regex(trimmed, r"^\+", "")  # Arrow refuses "+5"
    present = trimmed.drop_null()
    if len(present) == 0:
        return values
    candidates: list[tuple[str, pa.DataType]] = [
        (_INTEGER, pa.int64()),
        (_FLOAT, pa.float64()),
        (_BOOLEAN, pa.bool_()),
        (_DATE, pa.date32()),
        (_TIMESTAMP, pa.timestamp("us")),
    ]
    for pattern, target in candidates:
        if _all_match(present, pattern):
            source = pc.utf8_lower(trimmed) if target == pa.bool_() else unsigned
            cast = _try_cast(source, target)
            if cast is not None:
                return cast
    if decimal_comma and _all_match(present, _DECIMAL_COMMA):
        cast = _try_cast(pc.replace_substring(unsigned, ",", "."), pa.float64())
        if cast is not None:
            return cast
    return values


# Streaming: a type is inferred once from a sample, then each batch is converted
# cell by cell, and cells that do not fit are reported instead of failing the read.
TEXT_TYPES = ("integer", "float", "decimal_comma", "boolean", "date", "timestamp", "string")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d")
_PATTERNS = {
    "integer": _INTEGER,
    "float": _FLOAT,
    "decimal_comma": _DECIMAL_COMMA,
    "boolean": _BOOLEAN,
    "date": _DATE,
    "timestamp": _TIMESTAMP,
}
_TARGETS = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "decimal_comma": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "string": pa.string(),
}


def infer_text_type(values: pa.Array | pa.ChunkedArray, *, decimal_comma: bool) -> str:
    """Name the narrowest of ``TEXT_TYPES`` that every non-empty value fits (as infer_column)."""
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values], type=values.type)
    typed = infer_column(values, decimal_comma=decimal_comma)
    if typed.type == pa.string():
        return "string"
    for name in ("integer", "boolean", "date", "timestamp"):
        if typed.type == _TARGETS[name]:
            return name
    present = pc.utf8_trim_whitespace(values).drop_null()
    return "float" if _all_match(present, _FLOAT) else "decimal_comma"


def text_arrow_type(text_type: str) -> pa.DataType:
    """The Arrow type a text column of ``text_type`` is converted to."""
    return _TARGETS[text_type]


def pick_date_format(values: pa.Array | pa.ChunkedArray) -> str | None:
    """The first of ``DATE_FORMATS`` that parses most sampled values (None if none parses)."""
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    best, best_hits = None, 0
    for fmt in DATE_FORMATS:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True)
        hits = len(parsed) - parsed.null_count
        if hits > best_hits:
            best, best_hits = fmt, hits
    return best


def _present(text: pa.Array) -> pa.Array:
    return pc.and_(pc.is_valid(text), pc.not_equal(text, ""))


def parse_dates(values: pa.Array, fmt: str) -> tuple[pa.Array, pa.Array]:
    """Parse text as dates in ``fmt``: (date32 array, mask of present values that failed)."""
    text = pc.utf8_trim_whitespace(values.cast(pa.string()))
    parsed = None
    if fmt == "%Y-%m-%d":
        # Fast path, a third of strptime's cost: Arrow's cast takes only valid strict
        # ISO dates, which strptime reads alike; anything else (2023-02-30, which
        # strptime rolls over, or an empty cell) makes it raise, and strptime decides.
        try:
            parsed = text.cast(pa.date32())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            parsed = None
    if parsed is None:
        parsed = pc.strptime(text, format=fmt, unit="s", error_is_null=True).cast(pa.date32())
        parsed = _without_rollover(text, parsed, fmt)
    failed = pc.and_(_present(text), pc.is_null(parsed))
    return parsed, pc.fill_null(failed, False)


_FIELDS = {"%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d{1,2})", "%d": r"(?P<d>\d{1,2})"}


def _without_rollover(text: pa.Array, parsed: pa.Array, fmt: str) -> pa.Array:
    """``parsed`` with NULL where strptime rolled an impossible date over.

    strptime reads 2023-02-30 as 2 March: the day, month and year written in the
    text must be the parsed date's, else the value is invalid (quarantined), not
    silently another date.
    """
    fields = re.sub("%[Ymd]", lambda m: _FIELDS[m.group()], re.escape(fmt))
    written = pc.extract_regex(text, f"^{fields}$")
    same = pc.and_(
        pc.and_(
            pc.equal(pc.struct_field(written, "Y").cast(pa.int64()), pc.year(parsed)),
            pc.equal(pc.struct_field(written, "m").cast(pa.int64()), pc.month(parsed)),
        ),
        pc.equal(pc.struct_field(written, "d").cast(pa.int64()), pc.day(parsed)),
    )
    kept: pa.Array = pc.if_else(pc.fill_null(same, False), parsed, pa.scalar(None, pa.date32()))
    return kept


def _strip_plus(text: pa.Array) -> pa.Array:
    """Drop a leading "+" (Arrow refuses "+5"); the regex only runs when one is there."""
    if pc.any(pc.starts_with(text, "+")).as_py():
        stripped: pa.Array = pc.replace_substring_regex(text, r"^\+", "")
        return stripped
    return text


def _comma_to_point(text: pa.Array) -> pa.Array:
    """``replace_substring(text, ",", ".")``, as a byte swap over the data buffer.

    A comma is one byte in UTF-8 and never part of another character, so the
    offsets and validity stay as they are; about a fifth of the kernel's cost.
    """
    if not isinstance(text, pa.StringArray) or text.buffers()[2] is None:
        replaced: pa.Array = pc.replace_substring(text, ",", ".")
        return replaced
    validity, offsets, data = text.buffers()
    bounds = np.frombuffer(offsets, np.int32, len(text) + 1, text.offset * 4)
    first, last = int(bounds[0]), int(bounds[-1])
    chars = np.frombuffer(data, np.uint8, last - first, first).copy()
    chars[chars == ord(",")] = ord(".")
    return pa.StringArray.from_buffers(
        len(text),
        pa.py_buffer(bounds - first),
        pa.py_buffer(chars),
        None if validity is None else text.is_valid().buffers()[1],
        text.null_count,
    )


def convert_text(values: pa.Array, text_type: str) -> tuple[pa.Array, pa.Array]:
    """Convert a text array to ``text_type``: (typed array, mask of present values that failed).

    Empty and blank cells become null and never fail.
    """
    target = _TARGETS[text_type]
    trimmed = pc.utf8_trim_whitespace(values)
    present = pc.fill_null(_present(trimmed), False)
    if text_type == "string":
        return values, pc.and_(present, False)
    source = _strip_plus(trimmed)
    if text_type == "boolean":
        source = pc.utf8_lower(trimmed)
    elif text_type == "decimal_comma":
        source = _comma_to_point(source)
    if text_type in {"integer", "float", "decimal_comma", "date"}:
        # Fast path: a batch where every cell casts needs no per-cell pattern.
        try:
            converted = source.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            if pa.types.is_floating(target):
                finite = pc.is_finite(converted)  # Arrow reads "nan" and "inf"; Sluis does not
                converted = pc.if_else(finite, converted, pa.scalar(None, target))
            return converted, pc.and_(present, pc.is_null(converted))
    fits = pc.fill_null(pc.match_substring_regex(trimmed, _PATTERNS[text_type]), False)
    candidates = pc.if_else(fits, source, pa.scalar(None, pa.string()))
    try:
        converted = candidates.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # A pattern fits but the value does not exist (2023-02-30): go cell by cell.
        cells = []
        for cell in candidates.to_pylist():
            try:
                cells.append(None if cell is None else pa.scalar(cell).cast(target).as_py())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                cells.append(None)
        converted = pa.array(cells, type=target)
    failed = pc.and_(present, pc.is_null(converted))
    return converted, failed
