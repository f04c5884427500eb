"""The policy set in force: readable by every user, changed only by privacy officers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.core.errors import BadInput, PayloadTooLarge
from gateway.policy.store import MAX_POLICY_FILE_BYTES
from gateway.services import policies as service

router = APIRouter(prefix="/api/v1/policies", tags=["policies"])


@router.get("")
def list_policies(rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    return service.listing(rt)


@router.get("/{path:path}")
def read_policy(path: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    return service.read(rt, path)


@router.put("/{path:path}")
async def put_policy(
    path: str, request: Request, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    """The body is the file's new text; it takes effect only if `opa check` and `opa test` pass."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_POLICY_FILE_BYTES:
            raise PayloadTooLarge(f"a policy file may be at most {MAX_POLICY_FILE_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput("the policy file must be UTF-8 text") from exc
    if not text.strip():
        raise BadInput("the policy file is empty")
    return await run_in_threadpool(service.change, rt, ctx, user, path, text)
