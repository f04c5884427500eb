"""Lab projects and their queries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.core.errors import NotFound
from gateway.engine.spec import QuerySpec
from gateway.services import exports
from gateway.services import projects as service
from gateway.services import queries as query_service

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


@router.post("", status_code=201)
def create_project(
    body: service.ProjectCreate, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    return service.create(rt, ctx, user, body)


@router.get("")
def list_projects(rt: RuntimeDep, user: CurrentUser) -> list[dict[str, Any]]:
    with rt.read() as s:
        return [service.describe(rt, s, p) for p in service.visible(s, user)]


@router.get("/{project_id}")
def get_project(project_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    with rt.read() as s:
        project = service.get(s, project_id)
        if not service.can_see(user, project):
            raise NotFound(f"no project {project_id}")
        return service.describe(rt, s, project)


@router.post("/{project_id}/approve")
def approve_project(
    project_id: str, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    return service.approve(rt, ctx, user, project_id)


@router.post("/{project_id}/queries")
def run_query(
    project_id: str, spec: QuerySpec, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    return query_service.run(rt, ctx, user, project_id, spec)


@router.get("/{project_id}/queries/{query_id}")
def get_query(project_id: str, query_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    return query_service.get(rt, user, project_id, query_id)


@router.get("/{project_id}/queries/{query_id}/export")
def export_query(
    project_id: str,
    query_id: str,
    rt: RuntimeDep,
    user: CurrentUser,
    ctx: AuditCtx,
    format: Annotated[str, Query(description="csv, xlsx or parquet")] = "csv",
) -> Response:
    """The released result as a file; only released cells, formula-injection safe."""
    body = query_service.get(rt, user, project_id, query_id)
    data = exports.export(body, format)
    query_service.record_export(rt, ctx, project_id, query_id, format)
    return Response(
        content=data,
        media_type=exports.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="sluis-{query_id}.{format}"'},
    )


@router.get("/{project_id}/queries/{query_id}/chart")
def chart_query(
    project_id: str, query_id: str, rt: RuntimeDep, user: CurrentUser
) -> dict[str, Any]:
    """A Vega-Lite spec of the released result (first aggregate by the first group column)."""
    body = query_service.get(rt, user, project_id, query_id)
    return exports.chart(body, len(body["group_columns"]))


@router.get("/{project_id}/queries/{query_id}/disclosure")
def disclosure_report(
    project_id: str, query_id: str, rt: RuntimeDep, user: CurrentUser
) -> dict[str, Any]:
    """The reviewer's disclosure report: rules, parameters and cells (privacy officers)."""
    return query_service.reviewer_view(rt, user, project_id, query_id)
