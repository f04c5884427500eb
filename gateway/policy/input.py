"""The one typed input document the gateway sends to OPA (see policies/README.md).

It carries who asks, for which project and datasets, and the *shape* of a
query (columns, roles, operators), never a filter value or any other data value.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict

Action = Literal[
    "upload_dataset",
    "view_dataset",
    "create_project",
    "approve_project",
    "query",
    "review",
    "list_reviews",
    "read_audit",
    "edit_policy",
]


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UserIn(_In):
    username: str
    role: str
    org: str


class ProjectFields(_In):
    """References a legal basis may require the project to record."""

    exemption_reference: str | None = None
    dpia_reference: str | None = None


class ProjectIn(_In):
    id: str | None
    name: str
    purpose: str
    legal_basis: str
    status: str
    expires_at: date
    is_member: bool
    requested_by: str
    dataset_ids: list[str]
    fields: ProjectFields
    approved_orgs: list[str] = []
    officer_approved: bool = False


class DatasetIn(_In):
    id: str | None
    org: str
    legal_basis: str
    in_project: bool


class ColumnUse(_In):
    column: str
    role: str


class FilterUse(ColumnUse):
    op: str


class AggregateUse(_In):
    fn: str
    column: str | None
    role: str | None


class JoinUse(_In):
    dataset: str
    on: str
    on_role: str | None
    on_is_entity: bool


class QueryShape(_In):
    dataset: str
    joins: list[JoinUse]
    group_by: list[ColumnUse]
    filters: list[FilterUse]
    aggregates: list[AggregateUse]


class ReviewIn(_In):
    requested_by: str


class PolicyInput(_In):
    action: Action
    today: date
    user: UserIn
    project: ProjectIn | None = None
    datasets: list[DatasetIn] = []
    query: QueryShape | None = None
    review: ReviewIn | None = None
