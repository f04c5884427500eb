"""Reading the policy set in force, and changing it: checked, activated, loaded, audited."""

from __future__ import annotations

import difflib
import threading
from typing import Any

from gateway.audit.log import AuditContext, append
from gateway.core.errors import DependencyDown, NotFound
from gateway.models import User
from gateway.policy.input import PolicyInput
from gateway.policy.store import check_path, policy_files
from gateway.services.datasets import user_in
from gateway.services.decisions import decide
from gateway.services.runtime import Runtime

_CHANGE_LOCK = threading.Lock()


def listing(rt: Runtime) -> dict[str, Any]:
    store = rt.policy_store
    return {"revision": store.revision, "files": policy_files(store.current)}


def read(rt: Runtime, relpath: str) -> dict[str, Any]:
    store = rt.policy_store
    return {"path": relpath, "revision": store.revision, "text": store.read(relpath)}


def change(rt: Runtime, ctx: AuditContext, user: User, relpath: str, text: str) -> dict[str, Any]:
    """Stage, check (``opa check --strict``, ``opa test``), activate and load one file."""
    check_path(relpath)
    decision = decide(
        rt,
        ctx,
        PolicyInput(action="edit_policy", today=rt.today(), user=user_in(user)),
        f"policy:{relpath}",
    )
    store = rt.policy_store
    with _CHANGE_LOCK:  # one change at a time: each stages from the set in force
        previous = store.revision
        try:
            old_text = store.read(relpath)
        except NotFound:
            old_text = ""
        revision, output = store.change(relpath, text)
        try:
            rt.engine().load(store.current)
        except DependencyDown:
            store.activate(previous)  # OPA refused or vanished: the old rules stay in force
            rt.engine().load(store.current)
            raise
    diff = "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            text.splitlines(keepends=True),
            fromfile=f"a/{relpath}",
            tofile=f"b/{relpath}",
        )
    )
    with rt.write() as s:
        append(
            s,
            ctx,
            "policy.activate",
            f"policy:{relpath}",
            decision_id=decision.decision_id,
            policy_revision=revision,
            details={"previous_revision": previous, "diff": diff},
        )
    return {"revision": revision, "previous_revision": previous, "checks": output}
