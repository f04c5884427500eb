"""The audit log, for privacy officers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.services import audit_view

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
def list_entries(
    rt: RuntimeDep,
    user: CurrentUser,
    ctx: AuditCtx,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=audit_view.MAX_PAGE)] = 100,
) -> dict[str, Any]:
    """Entries with ``seq`` greater than ``after``, oldest first."""
    return audit_view.entries(rt, ctx, user, after, limit)


@router.get("/verify")
def verify(rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx) -> dict[str, Any]:
    return audit_view.verify(rt, ctx, user)
