"""Policy files over the API: readable, and changed only when `opa check` and `opa test` pass."""

from __future__ import annotations

import json
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
    with_table_row,
)

CATALOGUE = "data/legal_bases.json"
TABLE = "sluis/legal_bases_test.rego"


def put(world: World, path: str, text: str, user: str = "pim"):  # type: ignore[no-untyped-def]
    return world.client.put(
        f"/api/v1/policies/{path}",
        headers={**world.h(user), "Content-Type": "text/plain"},
        content=text.encode(),
    )


def test_list_and_read(world: World) -> None:
    listing = world.client.get("/api/v1/policies", headers=world.h("anna")).json()
    assert CATALOGUE in listing["files"] and any(f.endswith(".rego") for f in listing["files"])
    assert listing["revision"] == world.rt.policy_store.revision
    body = world.client.get(f"/api/v1/policies/{CATALOGUE}", headers=world.h("anna")).json()
    assert "wpg-art22" in json.loads(body["text"])["legal_bases"]
    assert (
        world.client.get("/api/v1/policies/nope/missing.rego", headers=world.h("anna")).status_code
        == 404
    )


def test_valid_change_takes_effect(world: World) -> None:
    """A privacy officer adds a stricter basis: it works at once, with its threshold."""
    content = parquet_bytes(incidents_table(random.Random(4)))
    meta = incidents_meta(name="strict", legal_basis="wpg-art22-strict")
    assert (
        upload(world, "steward-politie", content, meta).status_code == 403
    )  # not in the catalogue yet

    catalogue = json.loads(
        world.client.get(f"/api/v1/policies/{CATALOGUE}", headers=world.h("pim")).json()["text"]
    )
    strict = json.loads(json.dumps(catalogue["legal_bases"]["wpg-art22"]))
    strict["obligations"]["min_entities"] = 1000
    catalogue["legal_bases"]["wpg-art22-strict"] = strict
    old_revision = world.rt.policy_store.revision
    # The catalogue alone is refused: the per-basis test table has no row for the new basis.
    assert put(world, CATALOGUE, json.dumps(catalogue, indent=2)).status_code == 422
    table = with_table_row(world.rt.policy_store.read(TABLE), "wpg-art22-strict")
    files = {CATALOGUE: json.dumps(catalogue, indent=2), TABLE: table}
    r = world.client.post("/api/v1/policies/changes", headers=world.h("pim"), json={"files": files})
    assert r.status_code == 200, r.text
    assert r.json()["revision"] != old_revision == r.json()["previous_revision"]

    dataset = upload(world, "steward-politie", content, meta)
    assert dataset.status_code == 201, dataset.text
    project = create_project(world, [dataset.json()["id"]], legal_basis="wpg-art22-strict").json()
    approve_all(world, project["id"])
    spec = {
        "dataset": dataset.json()["id"],
        "group_by": ["region"],
        "aggregates": [{"fn": "count"}],
    }
    after = world.client.post(
        f"/api/v1/projects/{project['id']}/queries", headers=world.h("anna"), json=spec
    ).json()
    assert after["policy_revision"] == r.json()["revision"]
    assert after["rows"] and all(row[1] is None for row in after["rows"])
    audit = world.client.get(
        "/api/v1/audit", headers=world.h("pim"), params={"limit": 1000}
    ).json()["entries"]
    activation = [e for e in audit if e["action"] == "policy.activate"]
    assert (
        activation
        and activation[-1]["actor"] == "pim"
        and "wpg-art22-strict" in activation[-1]["details"]["diff"]
    )


def test_a_change_breaking_shipped_tests_is_refused(world: World) -> None:
    """The shipped tests pin wpg-art22's threshold: lowering it fails `opa test`."""
    catalogue = json.loads(world.rt.policy_store.read(CATALOGUE))
    catalogue["legal_bases"]["wpg-art22"]["obligations"]["min_entities"] = 1
    old = world.rt.policy_store.revision
    r = put(world, CATALOGUE, json.dumps(catalogue))
    assert r.status_code == 422 and "FAIL" in r.json()["detail"]["output"]
    assert world.rt.policy_store.revision == old


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("sluis/authz.rego", "package sluis.authz\n\nthis is not rego {\n"),
        (
            "sluis/extra.rego",
            "package sluis.extra\n\nimport rego.v1\n\nx := y\n",
        ),  # unsafe var: opa check fails
        (
            "sluis/broken_test.rego",
            "package sluis.broken_test\n\ntest_fails if { 1 == 2 }\n",
        ),  # a failing test
    ],
)
def test_a_change_that_fails_checks_is_refused_and_old_rules_stay(
    world: World, path: str, text: str
) -> None:
    old_revision = world.rt.policy_store.revision
    r = put(world, path, text)
    assert r.status_code == 422, r.text
    assert r.json()["detail"]["output"]
    assert world.rt.policy_store.revision == old_revision
    assert (
        world.client.get("/api/v1/policies", headers=world.h("pim")).json()["revision"]
        == old_revision
    )
    # Decisions still come from the old set.
    assert world.client.get("/api/v1/audit", headers=world.h("pim")).status_code == 200


@pytest.mark.parametrize(
    "path", ["../escape.rego", "sluis/../../x.rego", "sluis/readme.md", "/abs.rego", "a b.rego"]
)
def test_bad_paths_are_refused(world: World, path: str) -> None:
    r = put(world, path, "package x\n")
    assert r.status_code in (404, 422), (path, r.status_code)
    assert world.rt.policy_store.revision == world.rt.policy_store.revision


@pytest.mark.parametrize("user", ["anna", "steward-politie", "root"])
def test_only_privacy_officers_change_policy(world: World, user: str) -> None:
    old = world.client.get(f"/api/v1/policies/{CATALOGUE}", headers=world.h(user)).json()["text"]
    assert put(world, CATALOGUE, old, user=user).status_code == 403


def test_empty_and_huge_bodies(world: World) -> None:
    assert put(world, "sluis/x.rego", "   ").status_code == 422
    assert put(world, "sluis/x.rego", "#" * (600 * 1024)).status_code == 413


def test_a_catalogue_that_breaks_its_schema_is_refused(world: World) -> None:
    catalogue = json.loads(world.rt.policy_store.read(CATALOGUE))
    catalogue["legal_bases"]["wpg-art22"]["obligations"]["min_entities"] = "ten"
    old = world.rt.policy_store.revision
    r = put(world, CATALOGUE, json.dumps(catalogue))
    assert r.status_code == 422, r.text
    assert "FAIL" in r.json()["detail"]["output"]
    assert world.rt.policy_store.revision == old
    syntax = put(world, CATALOGUE, "{ not json")
    assert syntax.status_code == 422 and world.rt.policy_store.revision == old
