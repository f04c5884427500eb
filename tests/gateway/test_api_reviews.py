"""Held results: two distinct privacy officers, not the requester, release them."""

from __future__ import annotations

import random
from typing import Any

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


@pytest.fixture
def held(world: World) -> tuple[str, dict[str, Any]]:
    """A query on tax data (awr-43c), whose obligations require human review."""
    r = upload(
        world,
        "steward-belasting",
        parquet_bytes(incidents_table(random.Random(5))),
        incidents_meta(name="tax", legal_basis="awr-43c"),
    )
    assert r.status_code == 201, r.text
    dataset_id = r.json()["id"]
    project = create_project(
        world,
        [dataset_id],
        legal_basis="awr-43c",
        purpose="research",
        exemption_reference="43c-2026-17",
    ).json()
    approve_all(world, project["id"], stewards=("steward-belasting",))
    spec = {"dataset": dataset_id, "group_by": ["region"], "aggregates": [{"fn": "count"}]}
    q = world.client.post(
        f"/api/v1/projects/{project['id']}/queries", headers=world.h("anna"), json=spec
    )
    assert q.status_code == 200, q.text
    return project["id"], q.json()


def review(world: World, user: str, query_id: str, decision: str = "approve") -> Any:
    return world.client.post(
        f"/api/v1/reviews/{query_id}",
        headers=world.h(user),
        json={"decision": decision, "comment": "checked"},
    )


def test_held_result_shows_no_rows_until_two_approvals(
    world: World, held: tuple[str, dict[str, Any]]
) -> None:
    project_id, body = held
    assert body["status"] == "held_for_review" and body["rows"] == []
    listed = world.client.get("/api/v1/reviews", headers=world.h("pim")).json()
    assert [q["query_id"] for q in listed] == [body["query_id"]]
    assert (
        listed[0]["held_rows"]
        and listed[0]["disclosure_report"]["parameters"]["min_entities"] >= 10
    )

    first = review(world, "pim", body["query_id"])
    assert first.status_code == 200 and first.json()["status"] == "held_for_review"
    assert review(world, "pim", body["query_id"]).status_code == 409  # the same reviewer twice
    second = review(world, "petra", body["query_id"])
    assert second.status_code == 200 and second.json()["status"] == "released"

    got = world.client.get(
        f"/api/v1/projects/{project_id}/queries/{body['query_id']}", headers=world.h("anna")
    ).json()
    assert got["status"] == "released" and got["rows"]
    assert world.client.get("/api/v1/reviews", headers=world.h("pim")).json() == []
    assert review(world, "petra", body["query_id"]).status_code == 409  # nothing held any more


def test_reject_ends_the_review(world: World, held: tuple[str, dict[str, Any]]) -> None:
    project_id, body = held
    assert review(world, "pim", body["query_id"], "reject").json()["status"] == "rejected"
    got = world.client.get(
        f"/api/v1/projects/{project_id}/queries/{body['query_id']}", headers=world.h("anna")
    ).json()
    assert got["status"] == "rejected" and got["rows"] == []


@pytest.mark.parametrize("user", ["anna", "bram", "steward-belasting", "root"])
def test_only_privacy_officers_review(
    world: World, held: tuple[str, dict[str, Any]], user: str
) -> None:
    _, body = held
    assert review(world, user, body["query_id"]).status_code == 403
    assert world.client.get("/api/v1/reviews", headers=world.h(user)).status_code == 403


def test_bad_review_input(world: World, held: tuple[str, dict[str, Any]]) -> None:
    _, body = held
    r = world.client.post(
        f"/api/v1/reviews/{body['query_id']}", headers=world.h("pim"), json={"decision": "maybe"}
    )
    assert r.status_code == 422
    assert review(world, "pim", "no-such-query").status_code == 404


def test_tax_project_without_exemption_reference_is_refused(world: World) -> None:
    r = upload(
        world,
        "steward-belasting",
        parquet_bytes(incidents_table(random.Random(5))),
        incidents_meta(name="tax", legal_basis="awr-43c"),
    )
    project = create_project(world, [r.json()["id"]], legal_basis="awr-43c")
    assert project.status_code == 403
    assert "exemption_reference" in " ".join(project.json()["detail"]["reasons"])
