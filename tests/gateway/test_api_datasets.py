"""Uploads: formats, metadata validation, pseudonymisation, and nothing left behind on failure."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pyarrow.csv as pacsv
import pytest
from sqlalchemy import func, select

from gateway.models import Dataset, DatasetVersion
from tests.factories import (
    World,
    incidents_meta,
    incidents_table,
    parquet_bytes,
    upload,
)


def _csv_bytes(table) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    return buf.getvalue()


def _state(world: World) -> tuple[int, int, list[Path]]:
    with world.rt.read() as s:
        datasets = s.scalar(select(func.count()).select_from(Dataset))
        versions = s.scalar(select(func.count()).select_from(DatasetVersion))
    files = [p for p in world.rt.settings.datasets_dir.rglob("*") if p.is_file()]
    return datasets or 0, versions or 0, files


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_steward_uploads_dataset(world: World, fmt: str) -> None:
    table = incidents_table(random.Random(1))
    content = parquet_bytes(table) if fmt == "parquet" else _csv_bytes(table)
    r = upload(world, "steward-politie", content, incidents_meta(), filename=f"incidents.{fmt}")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["org"] == "politie" and body["version"] == 1 and body["rows"] == table.num_rows
    roles = {c["name"]: c["role"] for c in body["columns"]}
    assert roles == incidents_meta()["columns"]
    assert {"id", "name", "org", "version", "rows", "columns", "pii_findings"} <= body.keys()
    assert any(f["column"] == "bsn" and f["detector"] == "bsn" for f in body["pii_findings"])
    listed = world.client.get("/api/v1/datasets", headers=world.h("steward-politie")).json()
    assert [d["id"] for d in listed] == [body["id"]]
    # Another organisation's steward does not see it; an analyst sees the metadata.
    assert world.client.get("/api/v1/datasets", headers=world.h("steward-douane")).json() == []
    assert len(world.client.get("/api/v1/datasets", headers=world.h("anna")).json()) == 1


def test_reupload_makes_a_new_version(world: World) -> None:
    content = parquet_bytes(incidents_table(random.Random(1)))
    first = upload(world, "steward-politie", content, incidents_meta()).json()
    second = upload(world, "steward-politie", content, incidents_meta()).json()
    assert second["id"] == first["id"] and second["version"] == 2


@pytest.mark.parametrize(
    ("filename", "content", "status"),
    [
        ("data.xlsx", b"PK\x03\x04rest-of-zip", 422),  # XLSX is read now: a broken zip
        ("data.jsonl", b'{"a": 1}\n', 422),  # JSON Lines too: the declared columns are missing
        ("data.exe", b"MZ\x90\x00", 415),
        ("data.parquet", b"PAR1 this is not parquet", 422),
        ("data.csv", b"", 422),
    ],
)
def test_bad_files_are_refused_and_leave_nothing(
    world: World, filename: str, content: bytes, status: int
) -> None:
    before = _state(world)
    r = upload(world, "steward-politie", content, incidents_meta(), filename=filename)
    assert r.status_code == status, r.text
    assert isinstance(r.json()["detail"], str | list | dict)
    assert _state(world) == before


@pytest.mark.parametrize(
    ("meta_change", "fragment"),
    [
        ({"columns": {"bsn": "identifier", "nonexistent": "category"}}, "nonexistent"),
        ({"entity_columns": []}, "entity_columns"),
        ({"retention_until": "2001-01-01"}, "retention_until"),
        ({"columns": {"bsn": "secret-role"}}, "columns"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_metadata_is_422_naming_the_problem(
    world: World, meta_change: dict, fragment: str
) -> None:
    content = parquet_bytes(incidents_table(random.Random(1)))
    meta = {**incidents_meta(), **meta_change}
    before = _state(world)
    r = upload(world, "steward-politie", content, meta)
    assert r.status_code == 422, r.text
    assert fragment in json.dumps(r.json()["detail"])
    assert _state(world) == before


def test_undeclared_identifier_column_is_refused_without_its_values(world: World) -> None:
    rng = random.Random(3)
    table = incidents_table(rng)
    meta = incidents_meta()
    meta["columns"] = {k: v for k, v in meta["columns"].items() if k != "bsn"}
    meta["entity_columns"] = ["region"]
    meta["columns"]["region"] = "category"
    before = _state(world)
    r = upload(world, "steward-politie", parquet_bytes(table), meta)
    assert r.status_code == 422
    detail = json.dumps(r.json())
    assert "bsn" in detail
    for value in table.column("bsn").to_pylist()[:20]:
        assert value not in detail
    assert _state(world) == before


def test_form_problems(world: World) -> None:
    c, h = world.client, world.h("steward-politie")
    assert c.post("/api/v1/datasets", headers=h, data={"meta": "{}"}).status_code in (415, 422)
    r = c.post("/api/v1/datasets", headers=h, files={"file": ("a.csv", b"a,b\n1,2\n")})
    assert r.status_code == 422 and "meta" in r.text
    r = c.post(
        "/api/v1/datasets",
        headers=h,
        files={"file": ("a.csv", b"a\n1\n")},
        data={"meta": "{not json"},
    )
    assert r.status_code == 422 and "JSON" in r.text
    r = c.post("/api/v1/datasets", headers={**h, "Content-Type": "application/json"}, content=b"{}")
    assert r.status_code == 415


def test_only_stewards_upload(world: World) -> None:
    content = parquet_bytes(incidents_table(random.Random(1)))
    for user in ("anna", "pim", "root"):
        r = upload(world, user, content, incidents_meta())
        assert r.status_code == 403, (user, r.text)
        assert r.json()["detail"]["reasons"]
    assert _state(world)[0] == 0


def test_unknown_legal_basis_is_denied(world: World) -> None:
    r = upload(
        world,
        "steward-politie",
        parquet_bytes(incidents_table(random.Random(1))),
        incidents_meta(legal_basis="covenant-only"),
    )
    assert r.status_code == 403
    assert any(
        "covenant-only" in reason or "legal basis" in reason.lower()
        for reason in r.json()["detail"]["reasons"]
    )


def test_upload_over_the_size_limit_is_413(world: World) -> None:
    world.rt.settings = world.rt.settings.model_copy(update={"max_upload_bytes": 2048})
    content = parquet_bytes(incidents_table(random.Random(1), people=200))
    before = _state(world)
    r = upload(world, "steward-politie", content, incidents_meta())
    assert r.status_code == 413
    assert _state(world) == before
