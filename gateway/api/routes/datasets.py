"""Dataset upload and metadata."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.api.multipart import read_upload
from gateway.core.errors import BadInput, NotFound
from gateway.services import datasets as service

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])


@router.post("", status_code=201)
async def upload_dataset(
    request: Request, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    """Multipart with ``file`` (CSV or Parquet) and ``meta`` (JSON, see CONTRACT.md)."""
    limit = rt.settings.max_upload_bytes
    upload = await read_upload(request.headers.get("content-type", ""), request.stream(), limit)
    if "file" not in upload.files:
        raise BadInput("the form needs a 'file' part holding the dataset")
    if "meta" not in upload.fields:
        raise BadInput("the form needs a 'meta' part holding the JSON metadata")
    filename, content = upload.files["file"]
    return await run_in_threadpool(
        service.upload, rt, ctx, user, content, filename, upload.fields["meta"]
    )


@router.get("")
def list_datasets(rt: RuntimeDep, user: CurrentUser) -> list[dict[str, Any]]:
    with rt.read() as s:
        return [service.describe(d) for d in service.visible(s, user)]


@router.get("/{dataset_id}")
def get_dataset(dataset_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    with rt.read() as s:
        for d in service.visible(s, user):
            if d.id == dataset_id:
                return service.describe(d)
    raise NotFound(f"no dataset {dataset_id}")
