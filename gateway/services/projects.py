"""Lab projects: creation, approval by the privacy officer and every data-owning organisation."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.models import Dataset, Project, ProjectApproval, ProjectDataset, ProjectMember, User
from gateway.policy.input import DatasetIn, PolicyInput, ProjectFields, ProjectIn
from gateway.services import datasets as dataset_service
from gateway.services.decisions import decide
from gateway.services.lifecycle import (
    PROJECT_TRANSITIONS,
    ProjectStatus,
    move,
    project_status,
)
from gateway.services.runtime import Runtime
from gateway.services.users import user_by_name

# A reference such as "Besluit 43c UR AWR 2026/123": printable, no control characters.
Reference = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]
Purpose = Literal["research", "statistics", "investigation", "supervision"]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=100)]
    purpose: Purpose
    legal_basis: Annotated[
        str, Field(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    ]
    dataset_ids: Annotated[
        list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=20)
    ]
    members: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=100)] = []
    expires_at: date
    exemption_reference: Reference | None = None
    dpia_reference: Reference | None = None

    @property
    def fields(self) -> ProjectFields:
        return ProjectFields(
            exemption_reference=self.exemption_reference, dpia_reference=self.dpia_reference
        )


def status_of(rt: Runtime, project: Project) -> ProjectStatus:
    return project_status(project.status, project.expires_at, rt.today())


def project_in(rt: Runtime, project: Project, user: User) -> ProjectIn:
    return ProjectIn(
        id=project.id,
        name=project.name,
        purpose=project.purpose,
        legal_basis=project.legal_basis,
        status=status_of(rt, project),
        expires_at=project.expires_at,
        is_member=any(m.user_id == user.id for m in project.members),
        requested_by=project.creator.username,
        dataset_ids=[d.dataset_id for d in project.datasets],
        fields=ProjectFields(
            exemption_reference=project.exemption_reference, dpia_reference=project.dpia_reference
        ),
        approved_orgs=owner_approvals(project)[0],
        officer_approved=officer_approved(project),
    )


def approved_org_ids(project: Project) -> set[str]:
    return {a.org_id for a in project.approvals if a.org_id}


def owner_approvals(project: Project) -> tuple[list[str], list[str]]:
    """Names of the data-owning organisations that approved, and of those still to approve."""
    approved_ids = approved_org_ids(project)
    owners = {pd.dataset.org_id: pd.dataset.org.name for pd in project.datasets}
    approved = sorted(name for org_id, name in owners.items() if org_id in approved_ids)
    waiting = sorted(name for org_id, name in owners.items() if org_id not in approved_ids)
    return approved, waiting


def officer_approved(project: Project) -> bool:
    return any(a.role == "privacy_officer" for a in project.approvals)


def datasets_in(project: Project, datasets: list[Dataset]) -> list[DatasetIn]:
    inside = {d.dataset_id for d in project.datasets}
    return [
        DatasetIn(id=d.id, org=d.org.name, legal_basis=d.legal_basis, in_project=d.id in inside)
        for d in datasets
    ]


def create(rt: Runtime, ctx: AuditContext, user: User, body: ProjectCreate) -> dict[str, Any]:
    if body.expires_at <= rt.today():
        raise BadInput("expires_at must be a date in the future")
    with rt.read() as s:
        datasets = [_dataset_for_project(s, i) for i in dict.fromkeys(body.dataset_ids)]
        members = [user_by_name(s, name) for name in dict.fromkeys(body.members)]
    draft = ProjectIn(
        id=None,
        name=body.name,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        status=ProjectStatus.PENDING,
        expires_at=body.expires_at,
        is_member=any(m.id == user.id for m in members),
        requested_by=user.username,
        dataset_ids=[d.id for d in datasets],
        fields=body.fields,
    )
    decision = decide(
        rt,
        ctx,
        PolicyInput(
            action="create_project",
            today=rt.today(),
            user=dataset_service.user_in(user),
            project=draft,
            datasets=[
                DatasetIn(id=d.id, org=d.org.name, legal_basis=d.legal_basis, in_project=True)
                for d in datasets
            ],
        ),
        f"project:{body.name}",
    )
    with rt.write() as s:
        project = Project(
            name=body.name,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            expires_at=body.expires_at,
            exemption_reference=body.exemption_reference,
            dpia_reference=body.dpia_reference,
            status=ProjectStatus.PENDING,
            created_by=user.id,
        )
        s.add(project)
        s.flush()
        s.add_all(ProjectDataset(project_id=project.id, dataset_id=d.id) for d in datasets)
        s.add_all(ProjectMember(project_id=project.id, user_id=m.id) for m in members)
        append(
            s,
            ctx,
            "project.create",
            f"project:{project.id}",
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details={
                "purpose": body.purpose,
                "legal_basis": body.legal_basis,
                "datasets": [d.id for d in datasets],
                "members": [m.username for m in members],
            },
        )
        s.flush()
        s.refresh(project)
        return describe(rt, s, project)


def _dataset_for_project(s: Session, dataset_id: str) -> Dataset:
    try:
        return dataset_service.get(s, dataset_id)
    except NotFound as exc:
        raise BadInput(f"dataset_ids: no dataset {dataset_id}") from exc


def get(s: Session, project_id: str) -> Project:
    project = s.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    return project


def owning_orgs(project: Project) -> set[str]:
    return {pd.dataset.org_id for pd in project.datasets}


def approve(rt: Runtime, ctx: AuditContext, user: User, project_id: str) -> dict[str, Any]:
    """Record the caller's approval; the project turns active once all parties approved."""
    with rt.read() as s:
        project = get(s, project_id)
        datasets = [pd.dataset for pd in project.datasets]
        policy_input = PolicyInput(
            action="approve_project",
            today=rt.today(),
            user=dataset_service.user_in(user),
            project=project_in(rt, project, user),
            datasets=datasets_in(project, datasets),
        )
    decision = decide(rt, ctx, policy_input, f"project:{project_id}")
    with rt.write() as s:
        project = get(s, project_id)
        current = status_of(rt, project)
        if current is not ProjectStatus.PENDING:
            raise Conflict(f"project is {current}; only a pending project can be approved")
        if any(a.user_id == user.id for a in project.approvals):
            raise Conflict("you have already approved this project")
        org_id = user.org_id if user.role == "steward" else None
        s.add(
            ProjectApproval(project_id=project.id, user_id=user.id, role=user.role, org_id=org_id)
        )
        s.flush()
        s.refresh(project)
        details: dict[str, Any] = {"role": user.role}
        if officer_approved(project) and owning_orgs(project) <= approved_org_ids(project):
            project.status = move(PROJECT_TRANSITIONS, current, ProjectStatus.ACTIVE)
            details["status"] = project.status
        append(
            s,
            ctx,
            "project.approve",
            f"project:{project.id}",
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details=details,
        )
        return describe(rt, s, project)


def can_see(user: User, project: Project) -> bool:
    if user.role == "privacy_officer" or project.created_by == user.id:
        return True
    if any(m.user_id == user.id for m in project.members):
        return True
    return user.role == "steward" and user.org_id in owning_orgs(project)


def visible(s: Session, user: User) -> list[Project]:
    """The projects a user may see, oldest first."""
    projects = s.scalars(select(Project).order_by(Project.created_at))
    return [p for p in projects if can_see(user, p)]


def describe(rt: Runtime, s: Session, project: Project) -> dict[str, Any]:
    approved, waiting = owner_approvals(project)
    return {
        "id": project.id,
        "name": project.name,
        "purpose": project.purpose,
        "legal_basis": project.legal_basis,
        "status": status_of(rt, project),
        "expires_at": project.expires_at.isoformat(),
        "exemption_reference": project.exemption_reference,
        "dpia_reference": project.dpia_reference,
        "dataset_ids": [d.dataset_id for d in project.datasets],
        "members": [m.user.username for m in project.members],
        "created_by": project.creator.username,
        "approvals": {
            "privacy_officer": officer_approved(project),
            "organisations": approved,
            "waiting_for": waiting,
        },
    }
