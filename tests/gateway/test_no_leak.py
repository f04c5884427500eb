"""A planted raw identifier never appears in a response, a log, the database or any file."""

from __future__ import annotations

import io
import json
import logging
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sqlalchemy import inspect, text

from tests.factories import (
    World,
    approve_all,
    create_project,
    incidents_meta,
    incidents_table,
    upload,
)

PLANTED_BSN = "111222333"  # passes the eleven-test
PLANTED_NAME = "Zwaantje Planteveld"


def _planted_csv() -> tuple[bytes, pa.Table]:
    table = incidents_table(random.Random(11), people=40)
    bsns = table.column("bsn").to_pylist()
    bsns[0] = PLANTED_BSN
    names = ["Jan Jansen"] * table.num_rows
    names[0] = PLANTED_NAME
    table = table.set_column(0, "bsn", pa.array(bsns)).append_column(
        "contact_name", pa.array(names)
    )
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    return buf.getvalue(), table


def _all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _db_dump(world: World) -> bytes:
    engine_url = world.rt.db_url
    from gateway.core.db import get_engine

    engine = get_engine(engine_url)
    out = []
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)))
    return "\n".join(out).encode()


def test_planted_identifier_never_leaks(
    world: World, caplog: pytest.LogCaptureFixture, opa_log: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    content, _ = _planted_csv()
    assert PLANTED_BSN.encode() in content
    responses: list[str] = []

    # 1. Refused: the name column is undeclared and looks like names.
    r = upload(world, "steward-politie", content, incidents_meta(), filename="planted.csv")
    responses.append(r.text)
    assert r.status_code == 422 and "contact_name" in r.text

    # 2. Accepted with the name declared as identifier too.
    meta = incidents_meta()
    meta["columns"]["contact_name"] = "identifier"
    r = upload(world, "steward-politie", content, meta, filename="planted.csv")
    responses.append(r.text)
    assert r.status_code == 201, r.text
    dataset_id = r.json()["id"]

    project = create_project(world, [dataset_id]).json()
    approve_all(world, project["id"])
    qurl = f"/api/v1/projects/{project['id']}/queries"
    for spec in (
        {
            "dataset": dataset_id,
            "group_by": ["region"],
            "aggregates": [{"fn": "count"}, {"fn": "max", "column": "damage_eur"}],
        },
        {"dataset": dataset_id, "group_by": ["bsn"], "aggregates": [{"fn": "count"}]},  # denied
        {
            "dataset": dataset_id,
            "filters": [{"column": "bsn", "op": "eq", "value": "x"}],
            "aggregates": [{"fn": "count"}],
        },
        {"dataset": dataset_id, "group_by": ["contact_name"], "aggregates": [{"fn": "count"}]},
        {
            "dataset": dataset_id,
            "filters": [{"column": "damage_eur", "op": "eq", "value": "abc"}],
            "aggregates": [{"fn": "count"}],
        },
    ):
        responses.append(world.client.post(qurl, headers=world.h("anna"), json=spec).text)
    responses.append(world.client.get("/api/v1/datasets", headers=world.h("anna")).text)
    responses.append(
        world.client.get("/api/v1/audit", headers=world.h("pim"), params={"limit": 1000}).text
    )

    for needle in (PLANTED_BSN, PLANTED_NAME, "Planteveld"):
        for body in responses:
            assert needle not in body
        assert needle not in caplog.text
        for path in _all_files(world.rt.settings.data_dir):
            assert needle.encode() not in path.read_bytes(), path
        assert needle.encode() not in _db_dump(world)
        assert needle.encode() not in opa_log.read_bytes()


def test_error_for_bad_csv_does_not_quote_the_data(world: World) -> None:
    bad = f"bsn,region\n{PLANTED_BSN},Utrecht,EXTRA\n".encode()
    r = upload(
        world,
        "steward-politie",
        bad,
        {**incidents_meta(), "columns": {"bsn": "identifier", "region": "category"}},
        filename="bad.csv",
    )
    assert r.status_code == 422
    assert PLANTED_BSN not in r.text and "EXTRA" not in r.text
    json.loads(r.text)
