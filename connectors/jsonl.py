"""JSON Lines uploads: one flat JSON object per line, read line by line in bounded memory.

The first object fixes the fields; later lines may leave fields out (null) but
not add any. Values become text (numbers as written by ``json``, booleans as
``true``/``false``) and are typed later like CSV. Nested values are refused.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from connectors.errors import EmptyFile, InvalidEncoding, LineTooLong, NestedType, UnreadableFile
from connectors.readers import BatchStream, Upload, check_column_names, open_upload, text_batch

__all__ = ["open_jsonl"]


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TypeError


def open_jsonl(source: Upload, batch_rows: int, max_line: int) -> BatchStream:
    """Open JSON Lines for streaming reads: the first line fixes the fields (see module)."""
    handle, owned = open_upload(source)
    closers: list[Callable[[], None]] = [handle.close] if owned else []

    def lines() -> Iterator[tuple[int, dict[str, Any]]]:
        number = 0
        while True:
            raw = handle.readline(max_line + 1)
            if not raw:
                return
            number += 1
            if len(raw) > max_line:
                raise LineTooLong(f"line {number} is longer than {max_line} bytes")
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            if not raw.strip():
                continue
            try:
                value = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise InvalidEncoding(f"line {number} is not valid UTF-8; save as UTF-8") from None
            except ValueError:
                raise UnreadableFile(f"line {number} is not valid JSON") from None
            if not isinstance(value, dict):
                raise UnreadableFile(f"line {number} is not a JSON object")
            yield number, value

    stream = lines()
    try:
        first = next(stream, None)
        if first is None:
            raise EmptyFile("the file is empty; upload one JSON object per line")
        if not first[1]:
            raise EmptyFile("the first line is an empty JSON object; give every line its fields")
        names = check_column_names(list(first[1]))
    except Exception:
        for closer in closers:
            closer()
        raise
    keys = list(first[1])
    known = set(keys)

    def batches() -> Iterator[pa.RecordBatch]:
        columns: list[list[str | None]] = [[] for _ in keys]
        pending = [first]
        for number, obj in _chain(pending, stream):
            if not known.issuperset(obj):
                raise UnreadableFile(
                    f"line {number} has a field that the first line does not have; "
                    "give every line the same fields"
                )
            for index, key in enumerate(keys):
                try:
                    columns[index].append(_json_text(obj.get(key)))
                except TypeError:
                    raise NestedType(
                        f"column {names[index]!r} holds a nested value on line {number}; "
                        "use plain values only",
                        column=names[index],
                    ) from None
            if len(columns[0]) >= batch_rows:
                yield text_batch(columns, names)
                columns = [[] for _ in keys]
        if columns and columns[0]:
            yield text_batch(columns, names)

    return BatchStream(names, batches(), text=True, _closers=closers)


def _chain(
    first: list[tuple[int, dict[str, Any]]], rest: Iterator[tuple[int, dict[str, Any]]]
) -> Iterator[tuple[int, dict[str, Any]]]:
    yield from first
    yield from rest
