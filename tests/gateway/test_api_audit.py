"""The audit log over the API and the CLI: complete, hash-chained, tamper-evident."""

from __future__ import annotations

import itertools
import random

import pytest
from sqlalchemy import delete, select, update

from gateway.audit.log import verify_session
from gateway.models import AuditEntry
from tests.factories import (
    World,
    approve_all,
    create_project,
    incidents_meta,
    incidents_table,
    parquet_bytes,
    run_cli,
    upload,
)


@pytest.fixture
def world(world: World) -> World:
    """The shared world, with one project, one released and one denied query."""
    w = world
    dataset = upload(
        w, "steward-politie", parquet_bytes(incidents_table(random.Random(2))), incidents_meta()
    ).json()
    project = create_project(w, [dataset["id"]]).json()
    approve_all(w, project["id"])
    spec = {"dataset": dataset["id"], "group_by": ["region"], "aggregates": [{"fn": "count"}]}
    w.client.post(f"/api/v1/projects/{project['id']}/queries", headers=w.h("anna"), json=spec)
    w.client.post(
        f"/api/v1/projects/{project['id']}/queries", headers=w.h("bram"), json=spec
    )  # denied
    return w


FIELDS = {
    "seq",
    "ts",
    "actor",
    "action",
    "object",
    "decision_id",
    "policy_revision",
    "prev_hash",
    "hash",
}


def test_privacy_officer_reads_a_complete_chain(world: World) -> None:
    r = world.client.get("/api/v1/audit", headers=world.h("pim"), params={"limit": 1000})
    assert r.status_code == 200
    entries = r.json()["entries"]
    assert entries[0].keys() >= FIELDS
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    for prev, entry in itertools.pairwise(entries):
        assert entry["prev_hash"] == prev["hash"]
    actions = [e["action"] for e in entries]
    for expected in (
        "org.add",
        "user.add",
        "dataset.upload",
        "project.create",
        "project.approve",
        "policy.decision",
        "query.released",
    ):
        assert expected in actions
    decisions = [e for e in entries if e["action"] == "policy.decision"]
    assert all(e["decision_id"] and e["policy_revision"] for e in decisions)
    assert any(e["details"]["allow"] is False and e["actor"] == "bram" for e in decisions)
    released = next(e for e in entries if e["action"] == "query.released")
    assert released["decision_id"] in {e["decision_id"] for e in decisions}
    page = world.client.get(
        "/api/v1/audit", headers=world.h("pim"), params={"after": 3, "limit": 2}
    ).json()
    assert [e["seq"] for e in page["entries"]] == [4, 5]
    assert world.client.get("/api/v1/audit/verify", headers=world.h("pim")).json()["ok"] is True


@pytest.mark.parametrize("user", ["anna", "steward-politie", "root"])
def test_only_privacy_officers_read_the_audit_log(world: World, user: str) -> None:
    assert world.client.get("/api/v1/audit", headers=world.h(user)).status_code == 403


def _cli_verify(world: World) -> tuple[int, str]:
    result = run_cli(world, "audit", "verify")
    return result.exit_code, result.stdout


def test_cli_verify_ok(world: World) -> None:
    code, out = _cli_verify(world)
    with world.rt.read() as s:
        count = len(s.scalars(select(AuditEntry.seq)).all())
    assert code == 0 and out.strip() == f"ok {count} entries"


def test_edited_entry_is_detected(world: World) -> None:
    with world.rt.write() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 5).values(actor="mallory"))
    code, out = _cli_verify(world)
    assert code == 1 and "seq 5" in out


def test_edited_details_are_detected(world: World) -> None:
    with world.rt.write() as s:
        entry = s.get(AuditEntry, 7)
        assert entry is not None
        entry.details = {**entry.details, "forged": True}
    code, out = _cli_verify(world)
    assert code == 1 and "seq 7" in out


def test_deleted_entry_is_detected(world: World) -> None:
    with world.rt.write() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq == 4))
    code, out = _cli_verify(world)
    assert code == 1 and "seq 5" in out


def test_reordered_entries_are_detected(world: World) -> None:
    with world.rt.write() as s:
        a, b = s.get(AuditEntry, 3), s.get(AuditEntry, 4)
        assert a is not None and b is not None
        fields = (
            "ts",
            "actor",
            "action",
            "object",
            "decision_id",
            "policy_revision",
            "details",
            "prev_hash",
            "hash",
        )
        va, vb = ({f: getattr(e, f) for f in fields} for e in (a, b))
        # Swap contents through a placeholder to respect the unique hash columns.
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(prev_hash="x", hash="y"))
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(**va))
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(**vb))
    with world.rt.read() as s:
        report = verify_session(s)
    assert not report.ok and report.first_bad_seq == 3
    assert _cli_verify(world)[0] == 1
