"""Dataset upload (through ``connectors``), storage as encrypted Parquet, and visibility."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Any

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import crypto
from connectors.errors import IngestError, UnsupportedFormat, UploadTooLarge
from connectors.ingest import prepare_dataset
from connectors.pseudonym import Pseudonymiser
from connectors.schema import parse_meta
from connectors.store import read_encrypted_parquet, write_encrypted_parquet
from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, NotFound, PayloadTooLarge, UnsupportedMedia
from gateway.models import Dataset, DatasetVersion, User
from gateway.policy.input import DatasetIn, PolicyInput, UserIn
from gateway.services.decisions import decide
from gateway.services.runtime import Runtime

PSEUDONYM_KEY_PURPOSE = "sluis/pseudonym/v1"
_CACHE_SIZE = 4


def user_in(user: User) -> UserIn:
    return UserIn(username=user.username, role=user.role, org=user.org.name)


def upload(
    rt: Runtime, ctx: AuditContext, user: User, content: bytes, filename: str, meta_raw: str
) -> dict[str, Any]:
    """Validate, pseudonymise, encrypt and store one upload; nothing is left behind on failure."""
    try:
        meta = parse_meta(meta_raw)
    except IngestError as exc:
        raise BadInput(str(exc)) from exc
    policy_input = PolicyInput(
        action="upload_dataset",
        today=rt.today(),
        user=user_in(user),
        datasets=[
            DatasetIn(id=None, org=user.org.name, legal_basis=meta.legal_basis, in_project=False)
        ],
    )
    decision = decide(rt, ctx, policy_input, f"dataset:{meta.name}")
    pseudonymiser = Pseudonymiser(crypto.derive_key(rt.master_key, PSEUDONYM_KEY_PURPOSE))
    try:
        prepared = prepare_dataset(content, filename, meta, pseudonymiser)
    except UnsupportedFormat as exc:
        raise UnsupportedMedia(str(exc)) from exc
    except UploadTooLarge as exc:
        raise PayloadTooLarge(str(exc)) from exc
    except IngestError as exc:
        raise BadInput(str(exc)) from exc

    with rt.write() as s:
        dataset = s.scalars(
            select(Dataset).where(Dataset.org_id == user.org_id, Dataset.name == meta.name)
        ).first()
        if dataset is None:
            dataset = Dataset(name=meta.name, org_id=user.org_id, created_by=user.id)
            s.add(dataset)
        dataset.legal_basis = meta.legal_basis
        dataset.entity_columns = list(meta.entity_columns)
        dataset.retention_until = meta.retention_until
        s.flush()
        number = (dataset.versions[-1].version + 1) if dataset.versions else 1
        data_key = crypto.generate_data_key()
        aad = f"{dataset.id}:{number}".encode()
        file_name = f"{dataset.id}/v{number}.parquet.enc"
        path = rt.settings.datasets_dir / file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        version = DatasetVersion(
            dataset_id=dataset.id,
            version=number,
            rows=prepared.rows,
            columns=[
                {"name": c.name, "type": c.type, "role": str(c.role)} for c in prepared.columns
            ],
            pii_findings=[
                {"column": f.column, "detector": f.detector, "share": round(f.share, 4)}
                for f in prepared.findings
            ],
            file_name=file_name,
            wrapped_key=crypto.wrap_key(rt.master_key, data_key, aad=aad),
            source_sha256=prepared.source_sha256,
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
            details={"version": number, "rows": prepared.rows, "sha256": prepared.source_sha256},
        )
        try:
            write_encrypted_parquet(prepared.table, path, data_key, aad=aad)
            s.commit()  # the file exists only if this commit succeeds
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        s.refresh(dataset)
        return describe(dataset)


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
        "created_at": v.created_at.isoformat(),
    }


def visible(s: Session, user: User) -> list[Dataset]:
    """Stewards see their own organisation's datasets; admins none; others all metadata."""
    query = select(Dataset).order_by(Dataset.created_at)
    if user.role == "admin":
        return []
    if user.role == "steward":
        query = query.where(Dataset.org_id == user.org_id)
    return [d for d in s.scalars(query) if d.versions]


def get(s: Session, dataset_id: str) -> Dataset:
    dataset = s.get(Dataset, dataset_id)
    if dataset is None or not dataset.versions:
        raise NotFound(f"no dataset {dataset_id}")
    return dataset


class _TableCache:
    """Recently used decrypted datasets, kept in memory only (never on disk)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._lock = Lock()

    def get_or_load(self, key: str, load: Callable[[], pa.Table]) -> pa.Table:
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
        table = load()
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > self.size:
                self._tables.popitem(last=False)
        return table


_cache = _TableCache(_CACHE_SIZE)


def load_table(rt: Runtime, version: DatasetVersion) -> pa.Table:
    """Decrypt one dataset version into memory."""
    aad = f"{version.dataset_id}:{version.version}".encode()

    wrapped = version.wrapped_key
    if wrapped is None:
        raise NotFound("this dataset version was erased when its retention date passed")

    def load() -> pa.Table:
        data_key = crypto.unwrap_key(rt.master_key, wrapped, aad=aad)
        return read_encrypted_parquet(
            rt.settings.datasets_dir / version.file_name, data_key, aad=aad
        )

    return _cache.get_or_load(f"{rt.settings.datasets_dir}:{version.id}", load)
