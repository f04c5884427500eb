"""Type inference for CSV columns read as text.

Unlike Arrow's own inference it keeps digit strings with a leading zero (phone
numbers, BSNs, codes) as text, and reads a decimal comma when commas do not delimit.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["infer_column"]

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
