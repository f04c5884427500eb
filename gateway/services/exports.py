"""Downloads of released results: CSV, XLSX and Parquet files and a Vega-Lite chart.

Only released results leave this way, and only their released cells (a
suppressed value stays empty). CSV and XLSX are made safe against formula
injection: a text cell that a spreadsheet would run as a formula (leading
``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with a single
quote, the OWASP advice; numbers are written as numbers and never touched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any, Literal

import altair as alt
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl import Workbook

from gateway.core.errors import BadInput, Conflict

ExportFormat = Literal["csv", "xlsx", "parquet"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> object:
    """A text value a spreadsheet will show as text; other values unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _released(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    if body["status"] != "released":
        raise Conflict("only a released result can be exported; this one is not released")
    return list(body["columns"]), [list(r) for r in body["rows"]]


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV with a header; suppressed values are empty fields."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(c) for c in columns])
    for row in rows:
        writer.writerow(["" if v is None else safe_text(v) for v in row])
    return out.getvalue().encode("utf-8")


def to_xlsx(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """One worksheet; every text cell is stored as text, never as a formula."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("result")
    sheet.append([safe_text(c) for c in columns])
    for row in rows:
        sheet.append([safe_text(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_parquet(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """Parquet with one column per result column; suppressed values are nulls."""
    data = {name: [row[i] for row in rows] for i, name in enumerate(columns)}
    table = pa.table(data) if rows else pa.table({c: pa.array([], pa.null()) for c in columns})
    out = io.BytesIO()
    pq.write_table(table, out)
    return out.getvalue()


def export(body: dict[str, Any], fmt: str) -> bytes:
    """The released result of a query as a file of the given format."""
    writers = {"csv": to_csv, "xlsx": to_xlsx, "parquet": to_parquet}
    if fmt not in writers:
        raise BadInput(f"format must be one of {', '.join(writers)}")
    columns, rows = _released(body)
    return writers[fmt](columns, rows)


def chart(body: dict[str, Any], group_count: int) -> dict[str, Any]:
    """A Vega-Lite bar chart of the first aggregate by the first group column.

    A second group column becomes the colour. Suppressed cells are left out
    of the chart (a bar of height zero would read as a released zero).
    """
    columns, rows = _released(body)
    if group_count < 1 or group_count >= len(columns):
        raise BadInput("a chart needs a result with at least one group_by column")
    x, measure = columns[0], columns[group_count]
    records = [
        {name: _chartable(v) for name, v in zip(columns, row, strict=True)}
        for row in rows
        if row[group_count] is not None
    ]
    base = alt.Chart().mark_bar()
    encoding: dict[str, Any] = {
        "x": alt.X(f"{_field(x)}:N", title=x),
        "y": alt.Y(f"{_field(measure)}:Q", title=measure),
        "tooltip": [
            alt.Tooltip(f"{_field(c)}:{'N' if i < group_count else 'Q'}", title=c)
            for i, c in enumerate(columns)
        ],
    }
    if group_count >= 2:
        encoding["color"] = alt.Color(f"{_field(columns[1])}:N", title=columns[1])
    spec: dict[str, Any] = base.encode(**encoding).properties(title=measure).to_dict()
    # Inline values, not Altair's named datasets: one self-contained spec for the UI.
    spec["data"] = {"values": records}
    return spec


def _field(name: str) -> str:
    # Vega-Lite reads dots and brackets in field names as paths: escape them.
    return name.replace("\\", "\\\\").replace(".", "\\.").replace("[", "\\[").replace("]", "\\]")


def _chartable(value: object) -> object:
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)
