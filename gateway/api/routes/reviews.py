"""Review of held results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.services import reviews as service

router = APIRouter(prefix="/api/v1/reviews", tags=["reviews"])


@router.get("")
def list_reviews(rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx) -> list[dict[str, Any]]:
    return service.pending(rt, ctx, user)


@router.post("/{query_id}")
def review(
    query_id: str, body: service.ReviewDecision, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    return service.review(rt, ctx, user, query_id, body)
