"""Streaming multipart parsing for uploads: form fields into memory, the file into a spool.

Starlette would spool large file parts to a temporary file in clear; an upload
holds raw identifiers, so Sluis streams the ``file`` part straight into a sink
the caller provides (an encrypted spool) and answers 413 as soon as the body
passes the limit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from gateway.core.errors import BadInput, PayloadTooLarge, UnsupportedMedia
from gateway.ingest import pipeline

MAX_FIELD_BYTES = 1024 * 1024
MAX_PARTS = 8


class Sink(Protocol):
    """Where a file part's bytes go."""

    def write(self, data: bytes) -> None:
        """Take the next bytes of the file."""
        ...


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)
    sink: Sink | None = None


@dataclass
class Upload:
    """The form fields, and the file parts by field name: (file name, sink)."""

    fields: dict[str, str]
    files: dict[str, tuple[str, Sink]]


async def read_upload(
    content_type: str,
    body: AsyncIterator[bytes],
    max_bytes: int,
    open_sink: Callable[[str, str], Sink],
) -> Upload:
    """Parse a multipart/form-data body; 413 past ``max_bytes``, 415/422 when malformed.

    ``open_sink(field, filename)`` is called once per file part and receives
    its bytes as they arrive; only one file part is accepted.
    """
    ctype, params = parse_options_header(content_type)
    if ctype != b"multipart/form-data" or b"boundary" not in params:
        raise UnsupportedMedia("send multipart/form-data with a 'file' part and a 'meta' part")
    parts: list[_Part] = []
    header: dict[str, bytes] = {}
    names: list[bytes] = []

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise BadInput(f"at most {MAX_PARTS} form parts")
        parts.append(_Part())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        names.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        key = names[-1].decode("latin-1").lower()
        header[key] = header.get(key, b"") + data[start:end]

    def on_headers_finished() -> None:
        _, opts = parse_options_header(header.get("content-disposition", b""))
        part = parts[-1]
        part.name = opts.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in opts:
            if any(p.sink is not None for p in parts):
                raise BadInput("send exactly one file part, named 'file'")
            part.filename = pipeline.check_filename(opts[b"filename"].decode("utf-8", "replace"))
            part.sink = open_sink(part.name, part.filename)
        header.clear()
        names.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        if part.sink is not None:
            part.sink.write(data[start:end])
            return
        part.data += data[start:end]
        if len(part.data) > MAX_FIELD_BYTES:
            raise PayloadTooLarge(f"form field {part.name} is larger than {MAX_FIELD_BYTES} bytes")

    parser = MultipartParser(
        params[b"boundary"],
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > max_bytes:
                raise PayloadTooLarge(f"the upload is larger than the limit of {max_bytes} bytes")
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        raise BadInput("the multipart body is malformed") from exc
    fields = {p.name: p.data.decode("utf-8", "replace") for p in parts if p.sink is None}
    files = {p.name: (p.filename or "", p.sink) for p in parts if p.sink is not None}
    return Upload(fields=fields, files=files)
