"""Retention: crypto-erasure by `sluis retention run` and on a schedule inside `serve`."""

from __future__ import annotations

import json
import logging
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from gateway.audit.log import AuditContext
from gateway.models import AuditEntry, Dataset, DatasetVersion
from gateway.services import retention
from gateway.services.background import Job, Scheduler
from tests.factories import (
    World,
    approve_all,
    create_project,
    run_cli,
    upload,
)
from tests.gateway.ingest_helpers import (
    PLANTED,
    assert_never_stored,
    csv_bytes,
    planted_meta,
    planted_table,
)

SPEC = {"group_by": ["region"], "aggregates": [{"fn": "count"}]}


def _planted(seed: int) -> bytes:
    return csv_bytes(planted_table(seed))


def _expire(world: World, dataset_id: str) -> None:
    with world.rt.write() as s:
        s.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(retention_until=date.today() - timedelta(days=1))
        )


def test_retention_run_erases_expired_datasets(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    old = upload(world, "steward-politie", _planted(1), planted_meta("old"), "old.csv").json()
    keep = upload(world, "steward-politie", _planted(2), planted_meta("keep"), "k.csv").json()
    project = create_project(world, [old["id"], keep["id"]]).json()
    approve_all(world, project["id"])
    url = f"/api/v1/projects/{project['id']}/queries"
    assert world.client.post(url, headers=world.h("anna"), json={"dataset": old["id"], **SPEC})
    with world.rt.read() as s:
        old_file = (
            world.rt.settings.datasets_dir
            / s.scalars(
                select(DatasetVersion.file_name).where(DatasetVersion.dataset_id == old["id"])
            ).one()
        )
    assert old_file.exists()

    _expire(world, old["id"])
    result = run_cli(world, "retention", "run")
    assert result.exit_code == 0, result.output
    erased = json.loads(result.stdout)
    assert [(e["dataset"], e["versions"]) for e in erased] == [(old["id"], [1])]

    with world.rt.read() as s:
        dataset = s.get(Dataset, old["id"])
        assert dataset is not None and dataset.erased_at is not None
        assert all(v.wrapped_key is None for v in dataset.versions)
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "dataset.erase")).one()
        assert entry.object == f"dataset:{old['id']}"
    assert not old_file.exists()

    # Hidden from listings, 404 by id; queries on it fail clearly; the other stays usable.
    h = world.h("anna")
    assert [d["id"] for d in world.client.get("/api/v1/datasets", headers=h).json()] == [keep["id"]]
    assert world.client.get(f"/api/v1/datasets/{old['id']}", headers=h).status_code == 404
    r = world.client.post(url, headers=h, json={"dataset": old["id"], **SPEC})
    assert r.status_code in (404, 410, 422), r.text
    r = world.client.post(url, headers=h, json={"dataset": keep["id"], **SPEC})
    assert r.status_code == 200, r.text

    # Idempotent; the planted identifier is nowhere.
    assert json.loads(run_cli(world, "retention", "run").stdout) == []
    assert_never_stored(world, PLANTED, caplog.text)
    assert run_cli(world, "audit", "verify").exit_code == 0


def test_retention_runs_on_a_schedule_and_stops_cleanly(world: World) -> None:
    old = upload(world, "steward-politie", _planted(3), planted_meta("old"), "old.csv").json()
    _expire(world, old["id"])
    ctx = AuditContext(actor="scheduler")
    with Scheduler([Job("retention", 0.05, lambda: retention.run(world.rt, ctx))]) as sched:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with world.rt.read() as s:
                dataset = s.get(Dataset, old["id"])
                if dataset is not None and dataset.erased_at is not None:
                    break
            time.sleep(0.05)
    assert dataset is not None and dataset.erased_at is not None
    assert sched.runs["retention"] >= 1
    assert not sched._thread.is_alive()


def test_reupload_after_erasure_starts_afresh(world: World) -> None:
    old = upload(world, "steward-politie", _planted(4), planted_meta("old"), "old.csv").json()
    _expire(world, old["id"])
    retention.run(world.rt, AuditContext(actor="t"))
    again = upload(world, "steward-politie", _planted(5), planted_meta("old"), "old.csv")
    assert again.status_code == 201, again.text
    assert again.json()["id"] == old["id"] and again.json()["version"] == 2
    versions = world.client.get(
        f"/api/v1/datasets/{old['id']}/versions", headers=world.h("steward-politie")
    ).json()
    assert [v["erased"] for v in versions] == [True, False]
