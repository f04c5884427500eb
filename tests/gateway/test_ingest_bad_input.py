"""Every bad input of issue 6 through the API: a 4xx that says what to fix, nothing stored."""

from __future__ import annotations

import io
import random
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.factories import World, incidents_meta, incidents_table, upload
from tests.gateway.ingest_helpers import PLANTED_BSN, csv_bytes, stored_state

META = {**incidents_meta(), "columns": {"bsn": "identifier", "region": "category"}}


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (20 << 20))  # ~1000:1
    return buf.getvalue()


def _nested() -> bytes:
    table = pa.table({"bsn": [PLANTED_BSN], "region": [["a", "b"]]})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def _mixed_encodings() -> bytes:
    return "bsn,region\n111222333,Zuid-Holland é\n".encode() + b"123456782,Fryslan \xe9\n"


CASES = {
    "malformed-csv": ("bad.csv", f"bsn,region\n{PLANTED_BSN},Utrecht,EXTRA\n".encode()),
    "mixed-encodings": ("enc.csv", _mixed_encodings()),
    "zip-bomb": ("bomb.xlsx", _zip_bomb()),
    "nested-parquet": ("nested.parquet", _nested()),
    "duplicate-columns": ("dup.csv", f"bsn,bsn,region\n{PLANTED_BSN},1,Utrecht\n".encode()),
    "empty-column-name": ("empty.csv", f"bsn,,region\n{PLANTED_BSN},1,Utrecht\n".encode()),
    "empty-file": ("nothing.csv", b""),
    "zero-rows": ("header.csv", b"bsn,region\n"),
    "10-MB-line": ("long.csv", b"bsn,region\n" + b"1" * (10 << 20) + b",Utrecht\n"),
    "not-a-dataset": ("x.exe", b"MZ\x90\x00"),
}


# Known gap, reported to the connectors side: a file mixing UTF-8 and Latin-1 is read as
# cp1252 (mojibake) instead of refused. Strict, so the fix shows up here as a pass.


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_a_4xx_naming_the_fix_and_leaves_nothing(world: World, case: str) -> None:
    filename, content = CASES[case]
    before = stored_state(world)
    r = upload(world, "steward-politie", content, META, filename=filename)
    assert r.status_code in (413, 415, 422), (case, r.status_code, r.text[:300])
    detail = r.json()["detail"]
    assert isinstance(detail, str) and len(detail) > 10, detail
    assert PLANTED_BSN not in r.text and "EXTRA" not in r.text
    assert stored_state(world) == before
    assert list(world.rt.settings.tmp_dir.iterdir()) == []


def test_a_good_upload_still_passes_next_to_them(world: World) -> None:
    content = csv_bytes(incidents_table(random.Random(1)))
    r = upload(world, "steward-politie", content, incidents_meta(), filename="ok.csv")
    assert r.status_code == 201, r.text
