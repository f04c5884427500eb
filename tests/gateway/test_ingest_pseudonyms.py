"""Project-scoped pseudonyms: one person links across datasets in a project, not across projects."""

from __future__ import annotations

import random
import time

import pyarrow as pa

from gateway.models import Dataset
from gateway.services import tables
from gateway.services.datasets import load_table
from tests.factories import World, incidents_meta, incidents_table, parquet_bytes, upload


def _versions(world: World, *ids: str):  # type: ignore[no-untyped-def]
    with world.rt.read() as s:
        return [s.get(Dataset, i).latest for i in ids]  # type: ignore[union-attr]


def test_pseudonyms_link_within_a_project_only(world: World) -> None:
    table = incidents_table(random.Random(5), people=30)
    person = table.column("bsn")[0].as_py()
    a = upload(world, "steward-politie", parquet_bytes(table), incidents_meta("a")).json()
    b = upload(world, "steward-politie", parquet_bytes(table), incidents_meta("b")).json()
    va, vb = _versions(world, a["id"], b["id"])

    def first(version, project: str | None) -> str:  # type: ignore[no-untyped-def]
        return str(load_table(world.rt, version, project_id=project).column("bsn")[0].as_py())

    # Within one project the same person has the same pseudonym in both datasets.
    assert first(va, "p1") == first(vb, "p1")
    # Across projects, and against the stored stage-1 pseudonym, it differs.
    assert first(va, "p1") != first(va, "p2")
    assert first(va, "p1") != first(va, None)
    assert person not in {first(va, "p1"), first(va, "p2"), first(va, None)}
    # Entity counts are unchanged by re-keying: the mapping is one to one.
    distinct = {
        p: len(set(load_table(world.rt, va, project_id=p).column("bsn").to_pylist()))
        for p in (None, "p1", "p2")
    }
    assert len(set(distinct.values())) == 1 and distinct[None] == 30
    # Other columns are untouched.
    assert (
        load_table(world.rt, va, project_id="p1")
        .column("region")
        .equals(load_table(world.rt, va).column("region"))
    )


def test_rekey_cost_is_measured_and_cached(world: World) -> None:
    people = 20_000
    table = pa.table(
        {
            "bsn": [f"P{i:08d}" for i in range(people)],
            "region": ["Utrecht"] * people,
            "incident_type": ["fraude"] * people,
            "damage_eur": [1.0] * people,
            "incident_date": [incidents_table(random.Random(1)).column(4)[0].as_py()] * people,
        }
    )
    r = upload(world, "steward-politie", parquet_bytes(table), incidents_meta("big"))
    assert r.status_code == 201, r.text
    (version,) = _versions(world, r.json()["id"])
    load_table(world.rt, version)  # decrypt once, so what follows is the re-key alone
    started = time.perf_counter()
    load_table(world.rt, version, project_id="cost")
    first = time.perf_counter() - started
    started = time.perf_counter()
    load_table(world.rt, version, project_id="cost")
    cached = time.perf_counter() - started
    measured = tables.stats[(version.id, "cost")]
    print(f"re-key of {people} distinct identifiers: {measured * 1000:.1f} ms")
    assert measured <= first and cached < first
