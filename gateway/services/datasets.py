"""Datasets: ingest from any source as a new version, metadata, visibility and lineage.

An ingest either finishes completely (encrypted file in place and one
database transaction committed) or leaves nothing: everything before the
commit lives in a locked workspace that a crash leaves for :func:`sweep`.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.pseudonym import Pseudonymiser
from connectors.spool import EncryptedSpool
from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, Conflict, NotFound
from gateway.ingest import pipeline, workspace
from gateway.models import Dataset, DatasetVersion, QueryRun, User, new_id
from gateway.policy.input import DatasetIn, PolicyInput, UserIn
from gateway.services import keys
from gateway.services.decisions import decide
from gateway.services.runtime import Runtime
from gateway.services.tables import load_table

__all__ = [
    "SOURCES",
    "describe",
    "get",
    "ingest",
    "load_table",
    "sweep",
    "upload",
    "user_in",
    "version_of",
    "versions",
    "visible",
]

SOURCES = ("upload", "inbox", "pull")


def user_in(user: User) -> UserIn:
    """The policy's view of a user."""
    return UserIn(username=user.username, role=user.role, org=user.org.name)


def ingest(
    rt: Runtime,
    ctx: AuditContext,
    user: User,
    spool: EncryptedSpool,
    filename: str,
    meta_raw: str | bytes,
    *,
    source: str,
    space: workspace.Workspace,
) -> dict[str, Any]:
    """Validate, pseudonymise, encrypt and store a spooled source as the next version.

    A dataset of the same name from the same organisation gets a new version;
    otherwise a new dataset is made. Raises a SluisError and stores nothing on
    any refusal.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source}")
    meta, options = pipeline.parse_request(meta_raw)
    policy_input = PolicyInput(
        action="upload_dataset",
        today=rt.today(),
        user=user_in(user),
        datasets=[
            DatasetIn(id=None, org=user.org.name, legal_basis=meta.legal_basis, in_project=False)
        ],
    )
    decision = decide(rt, ctx, policy_input, f"dataset:{meta.name}")
    with rt.read() as s:
        existing = _by_name(s, user.org_id, meta.name)
        dataset_id = existing.id if existing else new_id()
        number = existing.versions[-1].version + 1 if existing and existing.versions else 1
    master = rt.master_key
    aad = keys.version_aad(dataset_id, number)
    staged = space.file("data.parquet.enc")
    prepared = pipeline.run(
        spool,
        filename,
        meta,
        options,
        pseudonymiser=Pseudonymiser(keys.pseudonym_root(rt)),
        master_key=master,
        out_path=staged,
        aad=aad,
    )

    file_name = f"{dataset_id}/v{number}.parquet.enc"
    final = rt.settings.datasets_dir / file_name
    with rt.write() as s:
        dataset = _by_name(s, user.org_id, meta.name)
        latest = dataset.versions[-1].version if dataset and dataset.versions else 0
        if (dataset.id if dataset else dataset_id) != dataset_id or latest + 1 != number:
            raise Conflict(f"another version of dataset {meta.name} was stored meanwhile; retry")
        if dataset is None:
            dataset = Dataset(id=dataset_id, name=meta.name, org_id=user.org_id, created_by=user.id)
            s.add(dataset)
        dataset.legal_basis = meta.legal_basis
        dataset.entity_columns = list(meta.entity_columns)
        dataset.retention_until = meta.retention_until
        dataset.erased_at = None  # a new version after erasure starts a new retention period
        s.flush()
        wrapped, wrapped_by = keys.rewrap_if_rotated(rt, s, prepared.wrapped_key, master, aad)
        version = DatasetVersion(
            dataset_id=dataset.id,
            version=number,
            rows=prepared.rows,
            columns=prepared.columns,
            pii_findings=prepared.findings,
            file_name=file_name,
            wrapped_key=wrapped,
            key_id=wrapped_by,
            source_sha256=prepared.source_sha256,
            source=source,
            quarantined_rows=prepared.quarantined_rows,
            created_by=user.id,
        )
        s.add(version)
        s.flush()
        append(
            s,
            ctx,
            "dataset.upload",
            f"dataset:{dataset.id}",
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details={
                "version": number,
                "rows": prepared.rows,
                "sha256": prepared.source_sha256,
                "source": source,
                "quarantined_rows": version.quarantined_rows,
            },
        )
        try:
            space.publish(staged, final)
            s.commit()  # the file counts only once this commit succeeds
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        s.refresh(dataset)
        body = describe(dataset)
        body["version_id"] = version.id
    body["quarantine"] = prepared.quarantine
    body["formula_cells"] = prepared.formula_cells
    return body


def upload(
    rt: Runtime, ctx: AuditContext, user: User, content: bytes, filename: str, meta_raw: str
) -> dict[str, Any]:
    """Ingest an upload held in memory (the demo seed and scripts); see :func:`ingest`."""
    with workspace.workspace(rt.settings.tmp_dir) as space, EncryptedSpool(space.path) as spool:
        spool.write(content)
        spool.finish()
        return ingest(rt, ctx, user, spool, filename, meta_raw, source="upload", space=space)


def _by_name(s: Session, org_id: str, name: str) -> Dataset | None:
    return s.scalars(select(Dataset).where(Dataset.org_id == org_id, Dataset.name == name)).first()


def sweep(rt: Runtime) -> list[Path]:
    """Remove what crashed ingests left behind (workspaces, uncommitted final files)."""

    def committed(final: Path) -> bool:
        name = final.relative_to(rt.settings.datasets_dir).as_posix()
        with rt.read() as s:
            return (
                s.scalars(select(DatasetVersion).where(DatasetVersion.file_name == name)).first()
                is not None
            )

    return workspace.sweep(rt.settings.tmp_dir, committed)


def describe(dataset: Dataset) -> dict[str, Any]:
    """Metadata only: never a value from the dataset."""
    v = dataset.latest
    return {
        "id": dataset.id,
        "name": dataset.name,
        "org": dataset.org.name,
        "legal_basis": dataset.legal_basis,
        "entity_columns": dataset.entity_columns,
        "retention_until": dataset.retention_until.isoformat(),
        "version": v.version,
        "rows": v.rows,
        "columns": v.columns,
        "pii_findings": v.pii_findings,
        "source": v.source,
        "quarantined_rows": v.quarantined_rows,
        "created_at": v.created_at.isoformat(),
    }


def visible(s: Session, user: User) -> list[Dataset]:
    """Stewards see their own organisation's datasets; admins none; others all metadata.

    Erased datasets are hidden: their data is gone, only the audit log remembers them.
    """
    query = select(Dataset).where(Dataset.erased_at.is_(None)).order_by(Dataset.created_at)
    if user.role == "admin":
        return []
    if user.role == "steward":
        query = query.where(Dataset.org_id == user.org_id)
    return [d for d in s.scalars(query) if d.versions]


def get(s: Session, dataset_id: str) -> Dataset:
    """A dataset that can still be queried; NotFound when unknown or erased."""
    dataset = s.get(Dataset, dataset_id)
    if dataset is None or not dataset.versions:
        raise NotFound(f"no dataset {dataset_id}")
    if dataset.erased_at is not None:
        raise NotFound(
            f"dataset {dataset_id} was erased on {dataset.erased_at.date().isoformat()} "
            "when its retention period ended"
        )
    return dataset


def version_of(dataset: Dataset, number: int | None) -> DatasetVersion:
    """The named version of a dataset, else its latest; NotFound if unknown or erased."""
    if number is None:
        version = dataset.latest
    else:
        found = [v for v in dataset.versions if v.version == number]
        if not found:
            raise BadInput(f"dataset {dataset.id} has no version {number}")
        version = found[0]
    if version.wrapped_key is None:
        raise NotFound(f"version {version.version} of dataset {dataset.id} was erased")
    return version


def versions(s: Session, user: User, dataset_id: str) -> list[dict[str, Any]]:
    """Every version with its lineage and the queries that used it (ids and counts only)."""
    dataset = next((d for d in visible(s, user) if d.id == dataset_id), None)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    used: dict[int, list[QueryRun]] = defaultdict(list)
    for run in s.scalars(select(QueryRun).order_by(QueryRun.created_at)):
        number = (run.dataset_versions or {}).get(dataset_id)
        if number is not None:
            used[int(number)].append(run)
    names = {u.id: u.username for u in s.scalars(select(User))}
    out = []
    for v in dataset.versions:
        runs = used.get(v.version, [])
        out.append(
            {
                "version": v.version,
                "created_at": v.created_at.isoformat(),
                "created_by": names.get(v.created_by, v.created_by),
                "source": v.source,
                "source_sha256": v.source_sha256,
                "rows": v.rows,
                "quarantined_rows": v.quarantined_rows,
                "columns": v.columns,
                "erased": v.wrapped_key is None,
                "used_by": {
                    "queries": len(runs),
                    "query_ids": [r.id for r in runs],
                    "projects": sorted({r.project_id for r in runs}),
                    "users": sorted({names.get(r.user_id, r.user_id) for r in runs}),
                },
            }
        )
    return out
