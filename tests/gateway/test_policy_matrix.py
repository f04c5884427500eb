"""The whole decision matrix against the real OPA: roles x actions, and for queries
roles x project states x purposes x legal bases, checked against a plain-Python oracle
written from CONTRACT.md and the catalogue."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from gateway.policy.engine import PolicyEngine
from gateway.policy.store import shipped_policies

TODAY = date(2026, 11, 23)
CATALOGUE = json.loads((shipped_policies() / "data" / "legal_bases.json").read_text())[
    "legal_bases"
]
BASES = sorted(CATALOGUE)
ROLES = ("steward", "analyst", "privacy_officer", "admin")
STATES = ("pending", "active", "expired", "revoked")
PURPOSES = ("research", "statistics", "investigation", "supervision")
ORG_OF_BASIS = {b: f"org-{b}" for b in BASES}


@pytest.fixture(scope="module")
def engine(opa_url: str) -> Iterator[PolicyEngine]:
    e = PolicyEngine(opa_url)
    e.load(shipped_policies())
    yield e
    e.close()


def project(status: str, purpose: str, basis: str, *, member: bool = True) -> dict[str, Any]:
    return {
        "id": "p1",
        "name": "matrix",
        "purpose": purpose,
        "legal_basis": basis,
        "status": status,
        "expires_at": (TODAY + timedelta(days=30)).isoformat(),
        "is_member": member,
        "requested_by": "someone-else",
        "dataset_ids": ["d1"],
        "fields": {"exemption_reference": "43c-2026-001", "dpia_reference": "DPIA-7"},
        "approved_orgs": [ORG_OF_BASIS[basis]],
        "officer_approved": status != "pending",
    }


def query_input(
    role: str, status: str, purpose: str, basis: str, member: bool = True
) -> dict[str, Any]:
    return {
        "action": "query",
        "today": TODAY.isoformat(),
        "user": {"username": "u1", "role": role, "org": "lab"},
        "project": project(status, purpose, basis, member=member),
        "datasets": [
            {"id": "d1", "org": ORG_OF_BASIS[basis], "legal_basis": basis, "in_project": True}
        ],
        "query": {
            "dataset": "d1",
            "joins": [],
            "group_by": [{"column": "region", "role": "category"}],
            "filters": [{"column": "year", "role": "date", "op": "eq"}],
            "aggregates": [
                {"fn": "count", "column": None, "role": None},
                {"fn": "sum", "column": "amount", "role": "measure"},
            ],
        },
    }


def expected_query(role: str, status: str, purpose: str, basis: str, member: bool) -> bool:
    return (
        role == "analyst"
        and member
        and status == "active"
        and purpose in CATALOGUE[basis]["purposes"]
    )


@pytest.mark.parametrize("basis", BASES)
def test_query_matrix(engine: PolicyEngine, basis: str) -> None:
    mismatches = []
    for role, status, purpose, member in itertools.product(ROLES, STATES, PURPOSES, (True, False)):
        decision = engine.decide_document(query_input(role, status, purpose, basis, member))
        want = expected_query(role, status, purpose, basis, member)
        if decision.allow is not want:
            mismatches.append((role, status, purpose, member, decision.reasons))
        if decision.allow:
            obligations = CATALOGUE[basis]["obligations"]
            assert decision.obligations.min_entities >= max(10, obligations["min_entities"])
            assert decision.obligations.review_required is obligations["review_required"]
        else:
            assert decision.reasons, "every denial says why"
    assert mismatches == []


def test_query_on_an_active_project_past_its_end_date_is_denied(engine: PolicyEngine) -> None:
    doc = query_input("analyst", "active", "research", "wpg-art22")
    doc["project"]["expires_at"] = (TODAY - timedelta(days=1)).isoformat()
    decision = engine.decide_document(doc)
    assert not decision.allow and any("expired" in r for r in decision.reasons)


def test_query_needs_every_owner_approval(engine: PolicyEngine) -> None:
    doc = query_input("analyst", "active", "research", "wpg-art22")
    doc["project"]["approved_orgs"] = []
    assert not engine.decide_document(doc).allow
    doc = query_input("analyst", "active", "research", "wpg-art22")
    doc["project"]["officer_approved"] = False
    assert not engine.decide_document(doc).allow


def test_required_project_field_is_enforced(engine: PolicyEngine) -> None:
    required = [b for b in BASES if CATALOGUE[b]["required_project_fields"]]
    assert required, "the catalogue has at least one basis with a required project field"
    for basis in required:
        purpose = CATALOGUE[basis]["purposes"][0]
        doc = query_input("analyst", "active", purpose, basis)
        assert engine.decide_document(doc).allow
        doc["project"]["fields"] = {"exemption_reference": None, "dpia_reference": None}
        decision = engine.decide_document(doc)
        assert not decision.allow
        assert any(
            field in " ".join(decision.reasons)
            for field in CATALOGUE[basis]["required_project_fields"]
        )


# Who may do what, whatever else holds: action -> roles that can ever be allowed.
ACTION_ROLES = {
    "upload_dataset": {"steward"},
    "create_project": {"analyst", "privacy_officer"},
    "approve_project": {"privacy_officer", "steward"},
    "query": {"analyst"},
    "review": {"privacy_officer"},
    "list_reviews": {"privacy_officer"},
    "read_audit": {"privacy_officer"},
    "edit_policy": {"privacy_officer"},
}


def action_input(action: str, role: str) -> dict[str, Any]:
    doc = query_input(
        role, "pending" if action == "approve_project" else "active", "research", "wpg-art22"
    )
    doc["action"] = action
    doc["user"]["org"] = ORG_OF_BASIS["wpg-art22"] if role == "steward" else "lab"
    if action == "upload_dataset":
        doc["datasets"] = [
            {"id": None, "org": doc["user"]["org"], "legal_basis": "wpg-art22", "in_project": False}
        ]
    if action == "create_project":
        doc["project"]["id"] = None
    if action == "review":
        doc["review"] = {"requested_by": "someone-else"}
    if action not in ("query",):
        doc.pop("query")
    return doc


@pytest.mark.parametrize(("action", "role"), list(itertools.product(ACTION_ROLES, ROLES)))
def test_roles_per_action(engine: PolicyEngine, action: str, role: str) -> None:
    decision = engine.decide_document(action_input(action, role))
    assert decision.allow is (role in ACTION_ROLES[action]), decision.reasons


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"action": "query"},
        {"action": "teleport", "user": {"role": "admin"}},
        {"action": "query", "user": {"username": "x", "role": "root", "org": "x"}},
    ],
)
def test_garbage_is_denied(engine: PolicyEngine, document: dict[str, Any]) -> None:
    decision = engine.decide_document(document)
    assert not decision.allow and decision.reasons
