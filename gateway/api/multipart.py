"""Streaming multipart parsing for uploads, into memory only and bounded in size.

Starlette spools large file parts to a temporary file on disk; an upload holds
raw identifiers, so Sluis keeps it in memory until it is pseudonymised and
encrypted, and answers 413 as soon as the limit is passed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from gateway.core.errors import BadInput, PayloadTooLarge, UnsupportedMedia

MAX_FIELD_BYTES = 1024 * 1024
MAX_PARTS = 8


@dataclass
class _Part:
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Upload:
    fields: dict[str, str]
    files: dict[str, tuple[str, bytes]]


async def read_upload(content_type: str, body: AsyncIterator[bytes], max_bytes: int) -> Upload:
    """Parse a multipart/form-data body; 413 past ``max_bytes``, 415/422 when malformed."""
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
            part.filename = opts[b"filename"].decode("utf-8", "replace")
        header.clear()
        names.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        part.data += data[start:end]
        if part.filename is None and len(part.data) > MAX_FIELD_BYTES:
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
    fields = {p.name: p.data.decode("utf-8", "replace") for p in parts if p.filename is None}
    files = {p.name: (p.filename or "", bytes(p.data)) for p in parts if p.filename is not None}
    return Upload(fields=fields, files=files)
