"""Released results leave as CSV, XLSX, Parquet, a chart, or a DataFrame through the SDK."""

from __future__ import annotations

import csv
import io
import random
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from sdk import SluisAPIError, SluisClient
from tests.factories import World, active_project, incidents_table, query

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture
def project(world: World) -> tuple[str, str]:
    table = incidents_table(random.Random(11), people=60, small_region_people=3)
    regions = table.column("region").to_pylist()
    # A category that a spreadsheet would run as a formula, held by enough people to be released.
    regions = [FORMULA if r == "Utrecht" and i % 2 else r for i, r in enumerate(regions)]
    table = table.set_column(1, "region", pa.array(regions))
    project_id, (dataset_id,) = active_project(world, table)
    return project_id, dataset_id


def _run(world: World, project_id: str, dataset_id: str) -> dict[str, Any]:
    spec = {"dataset": dataset_id, "group_by": ["region"], "aggregates": [{"fn": "count"}]}
    r = query(world, project_id, spec)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _export(world: World, project_id: str, query_id: str, fmt: str) -> Any:
    return world.client.get(
        f"/api/v1/projects/{project_id}/queries/{query_id}/export",
        params={"format": fmt},
        headers=world.h("anna"),
    )


def test_csv_export_is_formula_safe_and_holds_only_released_cells(
    world: World, project: tuple[str, str]
) -> None:
    project_id, dataset_id = project
    body = _run(world, project_id, dataset_id)
    r = _export(world, project_id, body["query_id"], "csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["region", "count"]
    by_region = dict((row[0], row[1]) for row in rows[1:])
    assert "'" + FORMULA in by_region  # escaped: shown as text, never run
    assert FORMULA not in by_region
    assert by_region.get("Zeeland", "") == ""  # suppressed stays empty
    released = {row[0]: row[1] for row in body["rows"]}
    assert by_region["'" + FORMULA] == str(released[FORMULA])


def test_xlsx_and_parquet_exports_match_the_result(world: World, project: tuple[str, str]) -> None:
    project_id, dataset_id = project
    body = _run(world, project_id, dataset_id)
    xlsx = _export(world, project_id, body["query_id"], "xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == ["region", "count"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)  # no formulas
    parquet = _export(world, project_id, body["query_id"], "parquet")
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.column_names == ["region", "count"]
    assert table.to_pylist() == [{"region": r[0], "count": r[1]} for r in body["rows"]]
    entries = world.client.get(
        "/api/v1/audit", headers=world.h("pim"), params={"limit": 1000}
    ).json()["entries"]
    assert [e["action"] for e in entries].count("query.exported") == 2


def test_bad_format_and_unreleased_results_are_refused(
    world: World, project: tuple[str, str]
) -> None:
    project_id, dataset_id = project
    body = _run(world, project_id, dataset_id)
    r = _export(world, project_id, body["query_id"], "exe")
    assert r.status_code == 422 and "csv" in r.json()["detail"]
    assert _export(world, project_id, "nope", "csv").status_code == 404
    other = world.client.get(
        f"/api/v1/projects/{project_id}/queries/{body['query_id']}/export",
        headers=world.h("bram"),  # not a member
    )
    assert other.status_code == 404


def test_chart_is_vega_lite_without_suppressed_bars(world: World, project: tuple[str, str]) -> None:
    project_id, dataset_id = project
    body = _run(world, project_id, dataset_id)
    r = world.client.get(
        f"/api/v1/projects/{project_id}/queries/{body['query_id']}/chart", headers=world.h("anna")
    )
    assert r.status_code == 200
    spec = r.json()
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert spec["encoding"]["x"]["field"] == "region"
    values = spec["data"]["values"]
    assert all(v["count"] is not None for v in values)
    assert "Zeeland" not in {v["region"] for v in values}


def test_sdk_returns_dataframes_with_provenance(world: World, project: tuple[str, str]) -> None:
    project_id, dataset_id = project
    sdk = SluisClient(token=world.tokens["anna"], http=world.client)
    spec = {"dataset": dataset_id, "group_by": ["region"], "aggregates": [{"fn": "count"}]}
    frame = sdk.query(project_id, spec)
    assert list(frame.columns) == ["region", "count"]
    assert frame.attrs["status"] == "released"
    assert len(frame.attrs["policy_revision"]) == 64 and frame.attrs["decision_id"]
    assert frame.attrs["suppressed"] >= 1
    zeeland = frame[frame["region"] == "Zeeland"]
    assert zeeland.empty or pd.isna(zeeland["count"].iloc[0])
    again = sdk.result(project_id, frame.attrs["query_id"])
    assert again.equals(frame)
    assert sdk.export(project_id, frame.attrs["query_id"], "csv").startswith(b"region,count")
    with pytest.raises(SluisAPIError) as denied:
        sdk.query(project_id, {**spec, "group_by": ["bsn"]})
    assert denied.value.status == 403 and denied.value.reasons
    outsider = SluisClient(token=world.tokens["bram"], http=world.client)
    with pytest.raises(SluisAPIError) as refused:
        outsider.query(project_id, spec)
    assert refused.value.status == 403
