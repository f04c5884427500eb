"""Every accepted format through the API; quarantine opt-in; formula cells flagged, not run."""

from __future__ import annotations

import io
import json
import random

import openpyxl
import pyarrow as pa
import pytest

from tests.factories import World, incidents_meta, incidents_table, parquet_bytes, upload
from tests.gateway.ingest_helpers import csv_bytes, stored_state


def _xlsx(table: pa.Table) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(table.column_names)
    for row in table.to_pylist():
        sheet.append([row[c] for c in table.column_names])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _jsonl(table: pa.Table) -> bytes:
    return "".join(json.dumps(r, default=str) + "\n" for r in table.to_pylist()).encode()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx", "jsonl"])
def test_each_format_is_accepted(world: World, fmt: str) -> None:
    table = incidents_table(random.Random(1), people=30)
    content = {"csv": csv_bytes, "parquet": parquet_bytes, "xlsx": _xlsx, "jsonl": _jsonl}[fmt](
        table
    )
    r = upload(world, "steward-politie", content, incidents_meta(), filename=f"data.{fmt}")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["rows"] == table.num_rows
    assert {c["name"]: c["role"] for c in body["columns"]} == incidents_meta()["columns"]
    assert any(f["column"] == "bsn" for f in body["pii_findings"])


def _with_bad_amount(table: pa.Table, bad_rows: int) -> bytes:
    amounts = [str(v) for v in table.column("damage_eur").to_pylist()]
    for i in range(bad_rows):
        amounts[i * 7 + 3] = "not-a-number"
    return csv_bytes(table.set_column(3, "damage_eur", pa.array(amounts)))


def test_failed_rows_refuse_the_upload_unless_the_steward_opts_in(world: World) -> None:
    table = incidents_table(random.Random(2), people=60)
    content = _with_bad_amount(table, 2)
    before = stored_state(world)
    r = upload(world, "steward-politie", content, incidents_meta(), filename="q.csv")
    assert r.status_code == 422, r.text
    report = r.json()["detail"]["quarantine"]
    assert report["rejected_rows"] == 2
    assert {e["column"] for e in report["entries"]} == {"damage_eur"}
    assert sorted(e["row"] for e in report["entries"]) == [4, 11]
    assert "not-a-number" not in r.text
    assert stored_state(world) == before

    meta = incidents_meta(max_quarantine_share=0.1)
    r = upload(world, "steward-politie", content, meta, filename="q.csv")
    assert r.status_code == 201, r.text
    assert r.json()["rows"] == table.num_rows - 2
    assert r.json()["quarantine"]["rejected_rows"] == 2
    versions = world.client.get(
        f"/api/v1/datasets/{r.json()['id']}/versions", headers=world.h("steward-politie")
    ).json()
    assert versions[0]["quarantined_rows"] == 2


def test_formula_cells_are_kept_as_text_and_flagged(world: World) -> None:
    table = incidents_table(random.Random(3), people=30)
    notes = ["ok"] * table.num_rows
    notes[0], notes[5] = "=HYPERLINK(1)", "@SUM(A1)"
    content = csv_bytes(table.append_column("note", pa.array(notes)))
    meta = incidents_meta()
    meta["columns"]["note"] = "text"
    r = upload(world, "steward-politie", content, meta, filename="f.csv")
    assert r.status_code == 201, r.text
    assert r.json()["formula_cells"] == {"note": 2}
    assert "HYPERLINK" not in r.text
