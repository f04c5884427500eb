"""Disclosure control through the whole gateway: attacks that try to recover one planted person.

Each test plays the analyst with the real API, the real OPA and the real
anonymiser, and tries what an attacker would: margins that give a suppressed
cell away by subtraction, a pair of queries that differ by one person, a join
that counts a person twice, and queries past the privacy budget.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pyarrow as pa
import pytest

from tests.factories import World, active_project, incidents_table, query, valid_bsn

CATALOGUE = "data/legal_bases.json"


def _one_row_each(people: int, seed: int) -> pa.Table:
    """Utrecht people with one incident each and distinct damages."""
    rng = random.Random(seed)
    return pa.table(
        {
            "bsn": [valid_bsn(rng) for _ in range(people)],
            "region": ["Utrecht"] * people,
            "incident_type": [rng.choice(["fraude", "diefstal"]) for _ in range(people)],
            "damage_eur": [100.0 + i for i in range(people)],
            "incident_date": [date(2024, 1, 1) + timedelta(days=i) for i in range(people)],
        }
    )


def test_margins_never_give_a_suppressed_cell_away(world: World) -> None:
    table = incidents_table(random.Random(3), people=80, small_region_people=4)
    project_id, (dataset_id,) = active_project(world, table)
    spec = {
        "dataset": dataset_id,
        "group_by": ["region", "incident_type"],
        "aggregates": [{"fn": "count_rows"}],
        "totals": True,
    }
    r = query(world, project_id, spec)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["margin_rows"], "totals asked: margin rows come back"
    cells = {(row[0], row[1]): row[2] for row in body["rows"]}
    assert any(v is None for v in cells.values())
    # Every additive relation (a row or column with its total) that holds a suppressed
    # cell must hold at least two: one unknown in a sum is found by subtraction.
    regions = {k[0] for k in cells}
    types = {k[1] for k in cells}
    relations = [[(g, t) for t in types] for g in regions] + [
        [(g, t) for g in regions] for t in types
    ]
    for relation in relations:
        hidden = [k for k in relation if k in cells and cells[k] is None]
        assert len(hidden) != 1, f"recoverable by subtraction: {relation}"


def test_the_same_count_with_one_person_filtered_out_is_suppressed(world: World) -> None:
    table = _one_row_each(40, seed=5)
    project_id, (dataset_id,) = active_project(world, table)
    count = {"group_by": ["region"], "aggregates": [{"fn": "count"}]}
    first = query(world, project_id, {"dataset": dataset_id, **count}).json()
    assert first["rows"] == [["Utrecht", 40]]
    # The attacker removes the one person with the highest damage and compares.
    minus_one = {"column": "damage_eur", "op": "lt", "value": 139.0}
    second = query(world, project_id, {"dataset": dataset_id, **count, "filters": [minus_one]})
    assert second.status_code == 200, second.text
    assert second.json()["rows"] in ([], [["Utrecht", None]])
    assert second.json()["disclosure"]["rules"].get("differencing", 0) >= 1
    # A filter that leaves out many people is no differencing pair.
    half = {"column": "damage_eur", "op": "lt", "value": 120.0}
    third = query(world, project_id, {"dataset": dataset_id, **count, "filters": [half]})
    assert third.json()["rows"] == [["Utrecht", 20]]


def test_a_person_in_two_joined_datasets_counts_once(world: World) -> None:
    police = _one_row_each(30, seed=7)
    # The same 30 people again, each with two more incidents, in a second dataset.
    again = pa.concat_tables([police, police])
    project_id, (first, second) = active_project(world, police, again)
    spec = {
        "dataset": first,
        "joins": [{"dataset": second, "on": "bsn", "alias": "other"}],
        "group_by": ["region"],
        "aggregates": [{"fn": "count"}, {"fn": "count_rows"}],
    }
    r = query(world, project_id, spec)
    assert r.status_code == 200, r.text
    assert r.json()["rows"] == [["Utrecht", 30, 60]]
    bad = {**spec, "joins": [{"dataset": second, "on": "region"}]}
    refused = query(world, project_id, bad)
    assert refused.status_code == 422 and "entity" in str(refused.json()["detail"])


def test_reviewer_report_is_for_privacy_officers_only(world: World) -> None:
    table = incidents_table(random.Random(9), people=60, small_region_people=3)
    project_id, (dataset_id,) = active_project(world, table)
    spec = {"dataset": dataset_id, "group_by": ["region"], "aggregates": [{"fn": "count"}]}
    body = query(world, project_id, spec).json()
    url = f"/api/v1/projects/{project_id}/queries/{body['query_id']}/disclosure"
    report = world.client.get(url, headers=world.h("pim"))
    assert report.status_code == 200
    content = report.json()
    assert content["parameters"]["min_entities"] == 10
    fired = {r["rule"]: r for r in content["rules"]}
    assert fired["min_entities"]["count"] == 1
    assert world.client.get(url, headers=world.h("anna")).status_code == 404
    assert "cells" not in json.dumps(body["disclosure"]["rules"])  # analyst view: counts only


@pytest.fixture
def dp_world(world: World) -> World:
    """Customs data with differential privacy: epsilon 1 per query, budget 2 per project."""
    catalogue = json.loads(world.rt.policy_store.read(CATALOGUE))
    obligations = catalogue["legal_bases"]["douanewet"]["obligations"]
    obligations.update({"dp_epsilon": 1.0, "dp_budget": 2.0})
    r = world.client.put(
        f"/api/v1/policies/{CATALOGUE}", headers=world.h("pim"), content=json.dumps(catalogue)
    )
    assert r.status_code == 200, r.text
    return world


def test_differential_privacy_spends_the_budget_then_denies(dp_world: World) -> None:
    world = dp_world
    table = _one_row_each(200, seed=11)
    project_id, (dataset_id,) = active_project(world, table, basis="douanewet")
    spec = {"dataset": dataset_id, "group_by": ["incident_type"], "aggregates": [{"fn": "count"}]}
    answers = []
    for _ in range(2):
        r = query(world, project_id, spec)
        assert r.status_code == 200, r.text
        answers.append(r.json())
    truth = {t: table.column("incident_type").to_pylist().count(t) for t in ("fraude", "diefstal")}
    for body in answers:
        for incident_type, noisy in body["rows"]:
            assert isinstance(noisy, int) and abs(noisy - truth[incident_type]) < 40
    report = world.client.get(
        f"/api/v1/projects/{project_id}/queries/{answers[0]['query_id']}/disclosure",
        headers=world.h("pim"),
    ).json()
    assert 0 < report["epsilon"] <= 1.0
    third = query(world, project_id, spec)
    assert third.status_code == 403
    reason = " ".join(third.json()["detail"]["reasons"])
    assert "privacy budget" in reason and "left" in reason
