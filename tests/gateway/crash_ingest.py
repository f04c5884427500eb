"""Run one ingest in its own process, for the crash-safety test to SIGKILL it midway."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import select

from connectors.spool import EncryptedSpool
from gateway.audit.log import AuditContext
from gateway.core.config import Settings
from gateway.ingest.workspace import workspace
from gateway.models import User
from gateway.policy.engine import PolicyEngine
from gateway.services import datasets
from gateway.services.runtime import Runtime


def main() -> None:
    data_dir, db_url, opa_url, csv_path, meta_path = sys.argv[1:]
    settings = Settings(data_dir=Path(data_dir), database_url=db_url or None)
    engine = PolicyEngine(opa_url)
    rt = Runtime(settings, policy=engine)
    with rt.read() as s:
        user = s.scalars(select(User).where(User.username == "steward-politie")).one()
    with workspace(settings.tmp_dir) as space, EncryptedSpool(space.path) as spool:
        with open(csv_path, "rb") as source:
            while chunk := source.read(1 << 20):
                spool.write(chunk)
        spool.finish()
        meta = Path(meta_path).read_text()
        ctx = AuditContext(actor="crash-test")
        datasets.ingest(rt, ctx, user, spool, "big.csv", meta, source="upload", space=space)
    print("finished")


if __name__ == "__main__":
    main()
