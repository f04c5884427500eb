"""XLSX uploads through python-calamine (read-only), behind zip-bomb limits.

Before any XML is inflated, the zip's central directory is checked: entry count,
declared uncompressed sizes and compression ratio. The first sheet is read with
row and column caps; cells become text (numbers without a spurious ``.0``,
dates as ISO 8601) and are typed later like CSV.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from typing import BinaryIO

from python_calamine import CalamineError, CalamineWorkbook

from connectors.errors import EmptyFile, SuspiciousArchive, UnreadableFile

__all__ = ["XlsxLimits", "check_zip", "open_xlsx"]


class XlsxLimits:
    """Limits for one workbook; defaults fit any honest spreadsheet export."""

    max_entries: int = 10_000
    max_uncompressed_bytes: int = 512 << 20
    max_ratio: float = 200.0
    max_rows: int = 1_048_576  # Excel's own limit
    max_columns: int = 1_000


def check_zip(handle: BinaryIO, limits: XlsxLimits | None = None) -> None:
    """Refuse an archive whose directory promises too much: SuspiciousArchive."""
    limits = limits or XlsxLimits()
    try:
        with zipfile.ZipFile(handle) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnreadableFile("the file could not be read as XLSX (not a zip archive)") from None
    if len(infos) > limits.max_entries:
        raise SuspiciousArchive(f"the XLSX archive has more than {limits.max_entries} entries")
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise SuspiciousArchive(
            f"the XLSX unpacks to more than {limits.max_uncompressed_bytes >> 20} MiB; "
            "split it or upload CSV"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > limits.max_ratio:
            raise SuspiciousArchive(
                f"an XLSX part compresses more than {limits.max_ratio:.0f} to 1, "
                "as zip bombs do; upload CSV instead"
            )
    handle.seek(0)


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def open_xlsx(
    handle: BinaryIO, limits: XlsxLimits | None = None
) -> tuple[list[str], list[list[str | None]]]:
    """Read the first sheet: the header row's names and the data as text columns."""
    limits = limits or XlsxLimits()
    check_zip(handle, limits)
    try:
        workbook = CalamineWorkbook.from_filelike(handle)
        sheet = workbook.get_sheet_by_index(0)
    except (CalamineError, ValueError, OSError, IndexError):
        raise UnreadableFile("the file could not be read as XLSX") from None
    if sheet.total_height > limits.max_rows + 1 or sheet.total_width > limits.max_columns:
        raise SuspiciousArchive(
            f"the sheet exceeds {limits.max_rows} rows or {limits.max_columns} columns"
        )
    rows = sheet.iter_rows()
    header = next(rows, None)
    if header is None or all(_cell_text(cell) is None for cell in header):
        raise EmptyFile("the first sheet is empty; put a header row on top")
    names = [_cell_text(cell) or "" for cell in header]
    while names and not names[-1]:
        names.pop()  # trailing empty header cells: formatting, not columns
    columns: list[list[str | None]] = [[] for _ in names]
    for row in rows:
        texts = [_cell_text(cell) for cell in row]
        if any(text is not None for text in texts[len(names) :]):
            raise UnreadableFile("a row has values beyond the last named column; name every column")
        if all(text is None for text in texts):
            continue  # blank rows between blocks of data
        for index in range(len(names)):
            columns[index].append(texts[index] if index < len(texts) else None)
    return names, columns
