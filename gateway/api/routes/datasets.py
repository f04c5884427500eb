"""Dataset upload (streamed into an encrypted spool), metadata and version lineage."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from connectors.spool import EncryptedSpool
from gateway.api.deps import AuditCtx, CurrentUser, RuntimeDep
from gateway.api.multipart import read_upload
from gateway.core.errors import BadInput, NotFound
from gateway.ingest.workspace import workspace
from gateway.services import datasets as service

router = APIRouter(prefix="/api/v1/datasets", tags=["datasets"])


@router.post("", status_code=201)
async def upload_dataset(
    request: Request, rt: RuntimeDep, user: CurrentUser, ctx: AuditCtx
) -> dict[str, Any]:
    """Multipart with ``file`` (CSV, Parquet, XLSX or JSON Lines) and ``meta`` (JSON).

    See CONTRACT.md; ``meta`` may add ``max_quarantine_share`` to accept an
    upload with up to that share of its rows set aside.
    """
    with workspace(rt.settings.tmp_dir) as space:
        spools: list[EncryptedSpool] = []

        def open_sink(field: str, filename: str) -> EncryptedSpool:
            if field != "file":
                raise BadInput("the form's file part must be named 'file'")
            spools.append(EncryptedSpool(space.path))
            return spools[-1]

        try:
            upload = await read_upload(
                request.headers.get("content-type", ""),
                request.stream(),
                rt.settings.max_upload_bytes,
                open_sink,
            )
            if not spools:
                raise BadInput("the form needs a 'file' part holding the dataset")
            if "meta" not in upload.fields:
                raise BadInput("the form needs a 'meta' part holding the JSON metadata")
            spools[0].finish()
            return await run_in_threadpool(
                service.ingest,
                rt,
                ctx,
                user,
                spools[0],
                upload.files["file"][0],
                upload.fields["meta"],
                source="upload",
                space=space,
            )
        finally:
            for spool in spools:
                spool.close()


@router.get("")
def list_datasets(rt: RuntimeDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Datasets visible to the caller, metadata only (erased ones are not listed)."""
    with rt.read() as s:
        return [service.describe(d) for d in service.visible(s, user)]


@router.get("/{dataset_id}")
def get_dataset(dataset_id: str, rt: RuntimeDep, user: CurrentUser) -> dict[str, Any]:
    """One visible dataset's metadata."""
    with rt.read() as s:
        for d in service.visible(s, user):
            if d.id == dataset_id:
                return service.describe(d)
    raise NotFound(f"no dataset {dataset_id}")


@router.get("/{dataset_id}/versions")
def list_versions(dataset_id: str, rt: RuntimeDep, user: CurrentUser) -> list[dict[str, Any]]:
    """Each version's lineage (who, when, source, sha256, rows, schema) and its use by queries."""
    with rt.read() as s:
        return service.versions(s, user, dataset_id)
