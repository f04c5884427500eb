"""Seed a data dir with the demo through the real services, so every step is policy-checked.

Partner organisations, a user of every role, the three synthetic partner
datasets and an approved lab project; every step lands in the audit log.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pyarrow.parquet as pq
from sqlalchemy import select

from gateway.audit.log import AuditContext
from gateway.demo.synthetic import DATASET_ORG, demo_meta, generate
from gateway.models import Dataset, Organisation, Project, User
from gateway.services import datasets, projects, users
from gateway.services.runtime import Runtime

LAB_ORG = "nsoc-lab"
PROJECT_NAME = "Cash flows and undermining crime"
DEMO_USERS: dict[str, tuple[str, str]] = {  # username: (org, role)
    "steward-politie": ("politie", "steward"),
    "steward-douane": ("douane", "steward"),
    "steward-belastingdienst": ("belastingdienst", "steward"),
    "analyst-anna": (LAB_ORG, "analyst"),
    "analyst-bram": (LAB_ORG, "analyst"),
    "privacy-pim": (LAB_ORG, "privacy_officer"),
    "privacy-petra": (LAB_ORG, "privacy_officer"),
    "admin": (LAB_ORG, "admin"),
}


def _user(rt: Runtime, username: str) -> User:
    with rt.read() as s:
        return users.user_by_name(s, username)


def seed(rt: Runtime, ctx: AuditContext) -> tuple[dict[str, tuple[str, str]], str]:
    """Idempotent; each run issues fresh tokens.

    Returns ``{username: (role, token)}`` and the id of the active project.
    """
    with rt.read() as s:
        existing_users = set(s.scalars(select(User.username)).all())
        existing_orgs = set(s.scalars(select(Organisation.name)).all())
    for org in sorted({o for o, _ in DEMO_USERS.values()} - existing_orgs):
        users.add_org(rt, ctx, org)
    tokens = {}
    for username, (org, role) in DEMO_USERS.items():
        if username in existing_users:
            tokens[username] = (role, users.issue_token(rt, ctx, username))
        else:
            tokens[username] = (role, users.add_user(rt, ctx, username, org, role))

    dataset_ids = []
    for name, table in generate().items():
        steward = _user(rt, f"steward-{DATASET_ORG[name]}")
        with rt.read() as s:
            found = s.scalars(select(Dataset).where(Dataset.name == name)).first()
        if found is not None:
            dataset_ids.append(found.id)
            continue
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        meta = json.dumps(demo_meta(name))
        described = datasets.upload(
            rt, AuditContext(steward.username), steward, buffer.getvalue(), f"{name}.parquet", meta
        )
        dataset_ids.append(described["id"])

    with rt.read() as s:
        project = s.scalars(select(Project).where(Project.name == PROJECT_NAME)).first()
        project_id = project.id if project else None
    if project_id is None:
        analyst = _user(rt, "analyst-anna")
        body = projects.ProjectCreate(
            name=PROJECT_NAME,
            purpose="research",
            legal_basis="wpg-art22",
            dataset_ids=dataset_ids,
            members=["analyst-anna", "analyst-bram"],
            expires_at=rt.today() + timedelta(days=365),
            # Tax data (awr-43c) may be used only under a recorded exemption from fiscal secrecy.
            exemption_reference="Vrijstelling art. 43c UR AWR, demo-besluit 2026/001",
            dpia_reference="DPIA NSOC-lab 2026-03",
        )
        project_id = projects.create(rt, AuditContext(analyst.username), analyst, body)["id"]
        for approver in ("privacy-pim", *(f"steward-{o}" for o in DATASET_ORG.values())):
            user = _user(rt, approver)
            projects.approve(rt, AuditContext(user.username), user, project_id)
    return tokens, project_id
