"""The policy set in force: readable by every user, changed only by privacy officers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.core.errors import BadInput, PayloadTooLarge
from gateway.policy.store import MAX_POLICY_FILE_BYTES
from gateway.services import dry_run
from gateway.services import policies as service

router = APIRouter(prefix="/api/v1/policies", tags=["policies"])


@router.get("")
def list_policies(rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    return service.listing(rt)


PolicyFiles = Annotated[dict[str, str], Field(max_length=50)]


class ChangeSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: Annotated[PolicyFiles, Field(min_length=1)]


class DryRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: PolicyFiles = {}
    last: Annotated[int, Field(ge=1, le=dry_run.MAX_LAST)] = dry_run.DEFAULT_LAST


@router.post("/changes")
def change_policies(
    body: ChangeSet, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    """Several files changed together (e.g. a new legal basis and its tests), checked as one set."""
    return service.change_files(rt, ctx, user, body.files)


@router.post("/dry-run")
def dry_run_policies(
    body: DryRunRequest, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    """Check changed files and replay recent decisions against them; nothing is activated."""
    service.may_edit(rt, ctx, user, "policy:dry-run")
    return dry_run.dry_run(rt, files=body.files, last=body.last)


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
