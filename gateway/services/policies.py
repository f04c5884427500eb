"""Reading the policy set in force, and changing it: checked, activated, loaded, audited."""

from __future__ import annotations

import difflib
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, DependencyDown
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


def may_edit(rt: Runtime, ctx: AuditContext, user: User, obj: str) -> str:
    """The policy decision for editing (or dry-running) policies; returns its decision id."""
    policy_input = PolicyInput(action="edit_policy", today=rt.today(), user=user_in(user))
    return decide(rt, ctx, policy_input, obj).decision_id


def diff_sets(old: Path, new: Path) -> str:
    """A unified diff over every file of two policy folders."""
    chunks: list[str] = []
    for rel in sorted(set(policy_files(old)) | set(policy_files(new))):
        a = (old / rel).read_text(encoding="utf-8") if (old / rel).is_file() else ""
        b = (new / rel).read_text(encoding="utf-8") if (new / rel).is_file() else ""
        chunks += difflib.unified_diff(
            a.splitlines(keepends=True), b.splitlines(keepends=True), f"a/{rel}", f"b/{rel}"
        )
    return "".join(chunks)


def activate(
    rt: Runtime,
    ctx: AuditContext,
    *,
    decision_id: str | None,
    source: Path | None = None,
    files: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Stage, check (compiler, tests, guard rails), activate, load into OPA and audit.

    Anything failing leaves the set in force as it was.
    """
    store = rt.policy_store
    with _CHANGE_LOCK:  # one change at a time: each stages from the set in force
        previous = store.revision
        revision, output = store.propose(source=source, files=files)
        if rt.policy is not None:
            try:
                rt.policy.load(store.current)
            except DependencyDown:
                store.activate(previous)  # OPA refused or vanished: the old rules stay
                rt.policy.load(store.current)
                raise
        diff = diff_sets(store.revisions / previous, store.current)
        with rt.write() as s:
            append(
                s,
                ctx,
                "policy.activate",
                f"policy:{revision}",
                decision_id=decision_id,
                policy_revision=revision,
                details={"previous_revision": previous, "diff": diff},
            )
    return {"revision": revision, "previous_revision": previous, "checks": output}


def change(rt: Runtime, ctx: AuditContext, user: User, relpath: str, text: str) -> dict[str, Any]:
    """One file changed through the API by a privacy officer."""
    return change_files(rt, ctx, user, {relpath: text})


def change_files(
    rt: Runtime, ctx: AuditContext, user: User, files: Mapping[str, str]
) -> dict[str, Any]:
    """Files changed together through the API by a privacy officer."""
    for relpath, text in files.items():
        check_path(relpath)
        if not text.strip():
            raise BadInput(f"{relpath}: the policy file is empty")
    decision_id = may_edit(rt, ctx, user, ("policy:" + ",".join(sorted(files)))[:200])
    return activate(rt, ctx, decision_id=decision_id, files=files)
