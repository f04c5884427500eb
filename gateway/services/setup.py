"""Setting up a data dir (``sluis init``) and running the gateway with its OPA (``sluis serve``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from gateway.core.config import Settings
from gateway.core.db import upgrade
from gateway.core.keys import create_master_key
from gateway.policy.engine import PolicyEngine
from gateway.policy.opa_server import OpaProcess, find_opa
from gateway.services.recovery import recover
from gateway.services.runtime import Runtime


def init(settings: Settings) -> list[str]:
    """Create folders, master key, database schema and the policy set in force. Idempotent."""
    created = []
    for folder in (
        settings.data_dir,
        settings.datasets_dir,
        settings.log_dir,
        settings.tmp_dir,
        settings.policy_dir,
    ):
        if not folder.exists():
            created.append(str(folder))
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
    if create_master_key(settings.key_file):
        created.append(str(settings.key_file))
    upgrade(settings.db_url)
    Runtime(settings).policy_store.install()
    recover(settings)  # a crashed ingest or key rotation leaves nothing half-done
    return created


@contextmanager
def running(settings: Settings) -> Iterator[Runtime]:
    """A runtime with a policy engine: an OPA child on loopback unless ``SLUIS_OPA_URL`` is set."""
    init(settings)
    with ExitStack() as stack:
        url = settings.opa_url
        if url is None:
            opa = OpaProcess(find_opa(settings.opa_bin), settings.log_dir / "opa.log")
            url = stack.enter_context(opa)
        engine = PolicyEngine(url, settings.opa_timeout_s)
        stack.callback(engine.close)
        rt = Runtime(settings, policy=engine)
        engine.load(rt.policy_store.current)
        yield rt
