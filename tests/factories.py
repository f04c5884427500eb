"""Test factories: organisations, users with tokens, uploaded datasets and active projects."""

from __future__ import annotations

import io
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi.testclient import TestClient

from gateway.audit.log import AuditContext
from gateway.services import users
from gateway.services.runtime import Runtime

CTX = AuditContext(actor="test-setup")


def valid_bsn(rng: random.Random) -> str:
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        total = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True))
        check = total % 11
        if check < 10 and digits[0] != 0:
            return "".join(map(str, digits)) + str(check)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    """A small federation: three partner orgs, a lab, and one user of every role."""

    rt: Runtime
    client: TestClient
    tokens: dict[str, str]

    def h(self, username: str) -> dict[str, str]:
        return auth(self.tokens[username])


def make_world(rt: Runtime, client: TestClient) -> World:
    for org in ("politie", "douane", "belastingdienst", "lab"):
        users.add_org(rt, CTX, org)
    people = {
        "steward-politie": ("politie", "steward"),
        "steward-douane": ("douane", "steward"),
        "steward-belasting": ("belastingdienst", "steward"),
        "anna": ("lab", "analyst"),
        "bram": ("lab", "analyst"),
        "pim": ("lab", "privacy_officer"),
        "petra": ("lab", "privacy_officer"),
        "root": ("lab", "admin"),
    }
    tokens = {
        name: users.add_user(rt, CTX, name, org, role) for name, (org, role) in people.items()
    }
    return World(rt, client, tokens)


def incidents_table(rng: random.Random, people: int = 60, small_region_people: int = 3) -> pa.Table:
    """Police-like rows: many people in Utrecht, a few in Zeeland (a small group)."""
    rows: dict[str, list[Any]] = {
        "bsn": [],
        "region": [],
        "incident_type": [],
        "damage_eur": [],
        "incident_date": [],
    }
    persons = [valid_bsn(rng) for _ in range(people)]
    for i, person in enumerate(persons):
        region = "Zeeland" if i < small_region_people else "Utrecht"
        for _ in range(rng.randint(1, 3)):  # several rows per person: entities are not rows
            rows["bsn"].append(person)
            rows["region"].append(region)
            rows["incident_type"].append(rng.choice(["fraude", "diefstal"]))
            rows["damage_eur"].append(round(rng.uniform(0, 5000), 2))
            rows["incident_date"].append(date(2024, 1, 1) + timedelta(days=rng.randint(0, 365)))
    return pa.table(rows)


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def incidents_meta(
    name: str = "incidents", legal_basis: str = "wpg-art22", **extra: Any
) -> dict[str, Any]:
    meta = {
        "name": name,
        "legal_basis": legal_basis,
        "entity_columns": ["bsn"],
        "columns": {
            "bsn": "identifier",
            "region": "category",
            "incident_type": "category",
            "damage_eur": "measure",
            "incident_date": "date",
        },
        "retention_until": (date.today() + timedelta(days=365)).isoformat(),
    }
    meta.update(extra)
    return meta


def upload(
    world: World,
    steward: str,
    content: bytes,
    meta: dict[str, Any],
    filename: str = "data.parquet",
) -> Any:
    return world.client.post(
        "/api/v1/datasets",
        headers=world.h(steward),
        files={"file": (filename, content, "application/octet-stream")},
        data={"meta": json.dumps(meta)},
    )


def create_project(
    world: World,
    dataset_ids: list[str],
    *,
    purpose: str = "research",
    legal_basis: str = "wpg-art22",
    members: tuple[str, ...] = ("anna",),
    creator: str = "anna",
    expires_at: date | None = None,
    **references: str,
) -> Any:
    return world.client.post(
        "/api/v1/projects",
        headers=world.h(creator),
        json={
            "name": "lab project",
            "purpose": purpose,
            "legal_basis": legal_basis,
            "dataset_ids": dataset_ids,
            "members": list(members),
            "expires_at": (expires_at or date.today() + timedelta(days=90)).isoformat(),
            **references,
        },
    )


def approve_all(
    world: World, project_id: str, stewards: tuple[str, ...] = ("steward-politie",)
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for approver in ("pim", *stewards):
        r = world.client.post(f"/api/v1/projects/{project_id}/approve", headers=world.h(approver))
        assert r.status_code == 200, r.text
        body = r.json()
    return body


# Which demo steward uploads under which legal basis.
STEWARD_OF_BASIS = {"wpg-art22": "steward-politie", "douanewet": "steward-douane"}


def active_project(
    world: World, *tables: pa.Table, basis: str = "wpg-art22"
) -> tuple[str, list[str]]:
    """Upload each table (a dataset under ``basis``) into one approved, active project."""
    steward = STEWARD_OF_BASIS[basis]
    ids = []
    for i, table in enumerate(tables):
        meta = incidents_meta(f"set{i}", legal_basis=basis)
        r = upload(world, steward, parquet_bytes(table), meta)
        assert r.status_code == 201, r.text
        ids.append(str(r.json()["id"]))
    p = create_project(world, ids)
    assert approve_all(world, p.json()["id"], stewards=(steward,))["status"] == "active"
    return str(p.json()["id"]), ids


def query(world: World, project_id: str, spec: dict[str, Any], user: str = "anna") -> Any:
    """POST a query spec to a project as ``user``."""
    return world.client.post(
        f"/api/v1/projects/{project_id}/queries", headers=world.h(user), json=spec
    )


def with_table_row(table: str, basis: str, like: str = "wpg-art22") -> str:
    """The per-basis test table with a row for ``basis`` copied from ``like``'s row."""
    start = table.index(f'\t"{like}": {{')
    row = table[start : table.index("\n\t},\n", start) + len("\n\t},\n")]
    return table.replace(
        "table := {\n", "table := {\n" + row.replace(f'"{like}"', f'"{basis}"', 1), 1
    )


def run_cli(world: World, *args: str) -> Any:
    """Run `sluis ARGS --data-dir` in-process against the world's data dir and database."""
    from typer.testing import CliRunner

    from gateway.cli.main import app as cli

    settings = world.rt.settings
    env = {"SLUIS_DATABASE_URL": settings.database_url} if settings.database_url else {}
    return CliRunner().invoke(cli, [*args, "--data-dir", str(settings.data_dir)], env=env)
