"""HTTP upload streamed into an encrypted spool: limits, bad names, versions and lineage."""

from __future__ import annotations

import random

import pytest

from tests.factories import (
    World,
    approve_all,
    create_project,
    incidents_meta,
    incidents_table,
    parquet_bytes,
    upload,
)
from tests.gateway.ingest_helpers import csv_bytes, stored_state


def test_upload_over_the_limit_is_413_and_leaves_nothing(world: World) -> None:
    content = csv_bytes(incidents_table(random.Random(1)))
    world.rt.settings = world.rt.settings.model_copy(update={"max_upload_bytes": 2000})
    before = stored_state(world)
    r = upload(world, "steward-politie", content, incidents_meta(), filename="big.csv")
    assert r.status_code == 413 and "2000" in r.json()["detail"]
    assert stored_state(world) == before
    assert list(world.rt.settings.tmp_dir.iterdir()) == []  # the spool is gone too


@pytest.mark.parametrize("name", ["../../etc/passwd.csv", "a/b.csv", "..\\x.csv"])
def test_path_traversal_in_the_file_name_is_refused(world: World, name: str) -> None:
    content = csv_bytes(incidents_table(random.Random(1)))
    before = stored_state(world)
    r = upload(world, "steward-politie", content, incidents_meta(), filename=name)
    assert r.status_code == 422 and "name" in r.json()["detail"]
    assert stored_state(world) == before


def test_zero_rows_and_empty_files_say_what_to_fix(world: World) -> None:
    before = stored_state(world)
    header_only = b"bsn,region,incident_type,damage_eur,incident_date\n"
    r = upload(world, "steward-politie", header_only, incidents_meta(), filename="x.csv")
    assert r.status_code == 422, r.text
    r = upload(world, "steward-politie", b"", incidents_meta(), filename="x.csv")
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    assert stored_state(world) == before


def test_bad_quarantine_option_is_422(world: World) -> None:
    content = parquet_bytes(incidents_table(random.Random(1)))
    r = upload(world, "steward-politie", content, incidents_meta(max_quarantine_share=2))
    assert r.status_code == 422 and "max_quarantine_share" in r.json()["detail"]


def test_versions_record_lineage_and_who_used_which(world: World) -> None:
    first = upload(
        world, "steward-politie", parquet_bytes(incidents_table(random.Random(1))), incidents_meta()
    )
    assert first.status_code == 201, first.text
    dataset_id = first.json()["id"]
    project = create_project(world, [dataset_id]).json()
    approve_all(world, project["id"])
    spec = {"dataset": dataset_id, "group_by": ["region"], "aggregates": [{"fn": "count"}]}
    url = f"/api/v1/projects/{project['id']}/queries"
    q1 = world.client.post(url, headers=world.h("anna"), json=spec)
    assert q1.status_code == 200, q1.text
    table2 = incidents_table(random.Random(2))
    second = upload(world, "steward-politie", csv_bytes(table2), incidents_meta(), "v2.csv")
    assert second.status_code == 201 and second.json()["version"] == 2
    assert second.json()["quarantine"]["rejected_rows"] == 0
    q2 = world.client.post(url, headers=world.h("anna"), json=spec)
    assert q2.status_code == 200

    r = world.client.get(f"/api/v1/datasets/{dataset_id}/versions", headers=world.h("anna"))
    assert r.status_code == 200, r.text
    v1, v2 = r.json()
    assert (v1["version"], v2["version"]) == (1, 2)
    assert v1["created_by"] == v2["created_by"] == "steward-politie"
    assert v1["source"] == "upload" and len(v1["source_sha256"]) == 64
    assert v2["rows"] == table2.num_rows and v1["source_sha256"] != v2["source_sha256"]
    assert v1["used_by"]["query_ids"] == [q1.json()["query_id"]]
    assert v2["used_by"]["query_ids"] == [q2.json()["query_id"]]
    assert v2["used_by"]["users"] == ["anna"] and v2["used_by"]["projects"] == [project["id"]]
    # Another organisation's steward does not see the dataset, nor its versions.
    other = world.client.get(
        f"/api/v1/datasets/{dataset_id}/versions", headers=world.h("steward-douane")
    )
    assert other.status_code == 404


def test_a_named_version_loads_that_version(world: World) -> None:
    from gateway.core.errors import BadInput
    from gateway.services import datasets

    t1, t2 = incidents_table(random.Random(1)), incidents_table(random.Random(2))
    upload(world, "steward-politie", parquet_bytes(t1), incidents_meta())
    body = upload(world, "steward-politie", parquet_bytes(t2), incidents_meta()).json()
    with world.rt.read() as s:
        dataset = datasets.get(s, body["id"])
        latest, first = datasets.version_of(dataset, None), datasets.version_of(dataset, 1)
        with pytest.raises(BadInput, match="no version 3"):
            datasets.version_of(dataset, 3)
    assert latest.version == 2 and first.version == 1
    assert datasets.load_table(world.rt, first, project_id="p").num_rows == t1.num_rows
    assert datasets.load_table(world.rt, latest, project_id="p").num_rows == t2.num_rows
