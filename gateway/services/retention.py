"""Crypto-erasure of datasets whose retention date has passed.

The data keys are destroyed in one transaction (with an audit entry); the
encrypted files, already unreadable, are unlinked after the commit. A run
also unlinks files a crash left behind for datasets erased earlier.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from connectors.keys import crypto_erase
from gateway.audit.log import AuditContext, append
from gateway.models import Dataset
from gateway.services import tables
from gateway.services.runtime import Runtime

__all__ = ["run"]


def run(rt: Runtime, ctx: AuditContext) -> list[dict[str, Any]]:
    """Erase every dataset whose ``retention_until`` lies before today; returns what was erased."""
    today = rt.today()
    with rt.read() as s:
        due = list(
            s.scalars(
                select(Dataset.id).where(
                    Dataset.erased_at.is_(None), Dataset.retention_until < today
                )
            )
        )
    erased = []
    for dataset_id in due:
        report = _erase(rt, ctx, dataset_id, today)
        if report is not None:
            erased.append(report)
    _unlink_erased(rt)
    return erased


def _erase(rt: Runtime, ctx: AuditContext, dataset_id: str, today: date) -> dict[str, Any] | None:
    """Destroy one dataset's keys (one transaction, audited), then unlink its files."""
    report: dict[str, Any] = {}
    files: list[Path] = []

    def destroy_keys() -> None:
        with rt.write() as s:
            dataset = s.get(Dataset, dataset_id)
            if dataset is None or dataset.erased_at is not None or dataset.retention_until >= today:
                return  # another run got there first, or a new upload extended it
            dataset.erased_at = datetime.now(UTC)
            numbers = []
            for version in dataset.versions:
                if version.wrapped_key is not None:
                    version.wrapped_key = None
                    numbers.append(version.version)
                    files.append(rt.settings.datasets_dir / version.file_name)
                    tables.forget(version.id)
            s.flush()
            report.update(
                dataset=dataset.id,
                versions=numbers,
                retention_until=dataset.retention_until.isoformat(),
            )
            append(s, ctx, "dataset.erase", f"dataset:{dataset.id}", details=dict(report))

    crypto_erase(destroy_keys, files)  # reads ``files`` only after the keys are gone
    return report or None


def _unlink_erased(rt: Runtime) -> None:
    """Unlink the files of every version whose key is gone (idempotent)."""
    with rt.read() as s:
        datasets = list(s.scalars(select(Dataset)))
        files = [(v.id, v.file_name) for d in datasets for v in d.versions if v.wrapped_key is None]
    for version_id, file_name in files:
        tables.forget(version_id)
        path = rt.settings.datasets_dir / file_name
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()  # only when empty
