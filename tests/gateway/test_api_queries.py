"""Aggregate queries end to end, and every policy outcome of CONTRACT.md, on the real OPA."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from gateway.models import Project
from gateway.policy.engine import PolicyEngine
from tests.factories import (
    World,
    approve_all,
    create_project,
    incidents_meta,
    incidents_table,
    parquet_bytes,
    query,
    upload,
)

COUNT_BY_REGION = {"group_by": ["region"], "aggregates": [{"fn": "count"}, {"fn": "count_rows"}]}


@pytest.fixture
def table():  # type: ignore[no-untyped-def]
    return incidents_table(random.Random(7), people=60, small_region_people=3)


@pytest.fixture
def dataset_id(world: World, table) -> str:  # type: ignore[no-untyped-def]
    r = upload(world, "steward-politie", parquet_bytes(table), incidents_meta())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture
def project_id(world: World, dataset_id: str) -> str:
    r = create_project(world, [dataset_id])
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending"
    assert approve_all(world, r.json()["id"])["status"] == "active"
    return str(r.json()["id"])


def reasons(response: Any) -> str:
    assert response.status_code == 403, response.text
    found = response.json()["detail"]["reasons"]
    assert found and all(isinstance(r, str) for r in found)
    return " ".join(found).lower()


def test_small_groups_are_suppressed_and_entities_counted_once(
    world: World, project_id: str, dataset_id: str, table
) -> None:  # type: ignore[no-untyped-def]
    r = query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "released"
    assert body["columns"] == ["region", "count", "count_rows"]
    assert body["decision_id"] and len(body["policy_revision"]) == 64
    rows = {row[0]: row[1:] for row in body["rows"]}
    regions = table.column("region").to_pylist()
    bsns = table.column("bsn").to_pylist()
    utrecht_people = len({b for b, g in zip(bsns, regions, strict=True) if g == "Utrecht"})
    utrecht_rows = regions.count("Utrecht")
    assert rows["Utrecht"] == [utrecht_people, utrecht_rows]
    assert utrecht_rows > utrecht_people  # rows and entities really differ here
    # Zeeland: 3 people, below min_entities 10 -> both values null.
    assert rows.get("Zeeland", [None, None]) == [None, None]
    assert body["suppressed"] == 2
    again = world.client.get(
        f"/api/v1/projects/{project_id}/queries/{body['query_id']}", headers=world.h("anna")
    )
    assert again.status_code == 200 and again.json() == body


def test_sum_mean_min_max_are_suppressed_for_small_groups(
    world: World, project_id: str, dataset_id: str
) -> None:
    spec = {
        "dataset": dataset_id,
        "group_by": ["region"],
        "aggregates": [
            {"fn": f, "column": "damage_eur"} for f in ("sum", "mean", "median", "min", "max")
        ],
    }
    body = query(world, project_id, spec).json()
    assert body["columns"] == [
        "region",
        "sum_damage_eur",
        "mean_damage_eur",
        "median_damage_eur",
        "min_damage_eur",
        "max_damage_eur",
    ]
    for row in body["rows"]:
        if row[0] == "Zeeland":
            assert row[1:] == [None] * 5
        else:
            # Sum, mean and median of 57 people are released; the extremes are one
            # person's own amount (fewer than min_entities at or beyond them): suppressed.
            assert all(isinstance(v, float) for v in row[1:4])
            assert row[4:] == [None, None]
    assert body["suppressed"] == 7
    assert body["disclosure"]["rules"]["order_statistic"] >= 2


def test_filters_and_no_released_number_below_threshold(
    world: World, project_id: str, dataset_id: str
) -> None:
    spec = {
        "dataset": dataset_id,
        "filters": [
            {"column": "incident_date", "op": "between", "value": ["2024-01-01", "2024-12-31"]},
            {
                "column": "incident_type",
                "op": "in",
                "value": ["fraude", "diefstal", "x'; DROP TABLE t;--"],
            },
            {"column": "damage_eur", "op": "ge", "value": 0},
        ],
        "group_by": ["region", "incident_type"],
        "aggregates": [{"fn": "count"}],
    }
    body = query(world, project_id, spec).json()
    for row in body["rows"]:
        assert row[-1] is None or row[-1] >= 10


@pytest.mark.parametrize(
    ("spec_change", "fragment"),
    [
        ({"group_by": ["no_such_column"]}, "no_such_column"),
        ({"aggregates": [{"fn": "sum", "column": "region"}]}, "numeric"),
        ({"aggregates": [{"fn": "sum"}]}, "needs a column"),
        ({"aggregates": [{"fn": "count", "column": "region"}]}, "takes no column"),
        ({"aggregates": [{"fn": "stddev"}]}, "aggregates"),
        ({"aggregates": []}, "aggregates"),
        ({"filters": [{"column": "damage_eur", "op": "eq", "value": "abc"}]}, "damage_eur"),
        ({"filters": [{"column": "incident_date", "op": "eq", "value": "yesterday"}]}, "iso date"),
        ({"filters": [{"column": "region", "op": "between", "value": ["a"]}]}, "between"),
        ({"filters": [{"column": "region", "op": "lt", "value": "a"}]}, "numeric or date"),
        ({"filters": [{"column": "region", "op": "in", "value": ["x"] * 100_000}]}, "filters"),
        ({"joins": [{"dataset": "other", "on": "bsn"}]}, "join"),
        ({"dataset": "no-such-dataset"}, "no-such-dataset"),
        ({"unexpected": True}, "unexpected"),
    ],
)
def test_bad_specs_are_422_naming_the_problem(
    world: World, project_id: str, dataset_id: str, spec_change: dict[str, Any], fragment: str
) -> None:
    spec = {"dataset": dataset_id, **COUNT_BY_REGION, **spec_change}
    r = query(world, project_id, spec)
    assert r.status_code == 422, r.text
    assert fragment in str(r.json()["detail"]).lower()
    assert world.client.get("/healthz").status_code == 200


def test_malformed_json_is_422(world: World, project_id: str) -> None:
    r = world.client.post(
        f"/api/v1/projects/{project_id}/queries",
        headers={**world.h("anna"), "Content-Type": "application/json"},
        content=b'{"dataset": ',
    )
    assert r.status_code == 422


# --- policy outcomes that must hold (CONTRACT.md) ---


def test_non_member_is_denied(world: World, project_id: str, dataset_id: str) -> None:
    assert "member" in reasons(
        query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION}, user="bram")
    )


@pytest.mark.parametrize("user", ["pim", "steward-politie", "root"])
def test_other_roles_cannot_query(
    world: World, project_id: str, dataset_id: str, user: str
) -> None:
    reasons(query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION}, user=user))


def test_pending_project_is_denied(world: World, dataset_id: str) -> None:
    project = create_project(world, [dataset_id]).json()
    assert "pending" in reasons(
        query(world, project["id"], {"dataset": dataset_id, **COUNT_BY_REGION})
    )
    # Half approved is still pending.
    world.client.post(f"/api/v1/projects/{project['id']}/approve", headers=world.h("pim"))
    assert "pending" in reasons(
        query(world, project["id"], {"dataset": dataset_id, **COUNT_BY_REGION})
    )


def test_expired_project_is_denied(world: World, project_id: str, dataset_id: str) -> None:
    with world.rt.write() as s:
        s.execute(
            update(Project)
            .where(Project.id == project_id)
            .values(expires_at=date.today() - timedelta(days=1))
        )
    described = world.client.get(f"/api/v1/projects/{project_id}", headers=world.h("anna")).json()
    assert described["status"] == "expired"
    assert "expired" in reasons(
        query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION})
    )


def test_dataset_outside_the_project_is_denied(world: World, project_id: str) -> None:
    other = upload(
        world,
        "steward-politie",
        parquet_bytes(incidents_table(random.Random(9))),
        incidents_meta(name="other incidents"),
    ).json()
    assert "project" in reasons(
        query(world, project_id, {"dataset": other["id"], **COUNT_BY_REGION})
    )


def test_purpose_not_allowed_by_legal_basis_is_denied(world: World, dataset_id: str) -> None:
    project = create_project(world, [dataset_id], purpose="investigation")
    assert project.status_code == 201, project.text
    approve_all(world, project.json()["id"])
    text = reasons(query(world, project.json()["id"], {"dataset": dataset_id, **COUNT_BY_REGION}))
    assert "wpg-art22" in text and "investigation" in text


@pytest.mark.parametrize(
    "spec_change",
    [
        {"group_by": ["bsn"]},
        {"group_by": ["region", "bsn"]},
        {"filters": [{"column": "bsn", "op": "eq", "value": "123456782"}]},
        {"filters": [{"column": "bsn", "op": "in", "value": ["123456782"]}]},
    ],
)
def test_identifier_in_group_by_or_filter_is_denied(
    world: World, project_id: str, dataset_id: str, spec_change: dict[str, Any]
) -> None:
    text = reasons(
        query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION, **spec_change})
    )
    assert "identifier" in text and "bsn" in text


def test_opa_unreachable_is_503_never_allow(world: World, project_id: str, dataset_id: str) -> None:
    working = world.rt.policy
    dead = PolicyEngine("http://127.0.0.1:9")  # discard port: nothing listens
    dead.revision = working.revision if working else None
    world.rt.policy = dead
    try:
        r = query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION})
        assert r.status_code == 503
        assert "rows" not in r.json()
        assert world.client.get("/readyz").status_code == 503
        r = world.client.post(f"/api/v1/projects/{project_id}/approve", headers=world.h("pim"))
        assert r.status_code == 503
    finally:
        world.rt.policy = working


def test_opa_answering_undefined_is_503(world: World, project_id: str, dataset_id: str) -> None:
    """OPA's rule set changed behind the gateway's back: no decision, so no access."""
    engine = world.rt.policy
    assert engine is not None
    engine.client.update_policy_from_string(
        "package sluis.authz\n\nother := 1\n", "sluis/authz.rego", rego_compat=False
    )
    try:
        r = query(world, project_id, {"dataset": dataset_id, **COUNT_BY_REGION})
        assert r.status_code == 503
        assert "rows" not in r.json()
    finally:
        engine.load(world.rt.policy_store.current)
