"""Dry run: replay the recorded inputs of recent decisions against a proposed policy set.

The proposed set runs in its own short-lived OPA child, so the set in force
is never touched. Each decision that would flip (allow/deny) or whose
obligations would change is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gateway.core.errors import DependencyDown
from gateway.models import PolicyDecision
from gateway.policy.engine import PolicyEngine
from gateway.policy.opa_server import OpaProcess, find_opa
from gateway.policy.store import revision_of
from gateway.services.runtime import Runtime

DEFAULT_LAST = 100
MAX_LAST = 5000


def _change(row: PolicyDecision, after: dict[str, Any]) -> dict[str, Any] | None:
    before = row.result
    flipped = before.get("allow") is not after["allow"]
    obligations_changed = before.get("obligations") != after["obligations"]
    if not (flipped or obligations_changed):
        return None
    return {
        "decision_id": row.decision_id,
        "action": row.action,
        "decided_at": row.created_at.isoformat(),
        "policy_revision": row.policy_revision,
        "change": "flip" if flipped else "obligations",
        "allow_before": before.get("allow"),
        "allow_after": after["allow"],
        "reasons_after": after["reasons"],
        "obligations_before": before.get("obligations"),
        "obligations_after": after["obligations"],
    }


def dry_run(
    rt: Runtime,
    *,
    source: Path | None = None,
    files: Mapping[str, str] | None = None,
    last: int = DEFAULT_LAST,
) -> dict[str, Any]:
    """Check the proposed set and replay the last ``last`` decisions against it."""
    store = rt.policy_store
    with store.staged(source=source, files=files) as staging:
        outcome = store.check(staging)
        report: dict[str, Any] = {
            "proposed_revision": revision_of(staging),
            "current_revision": store.revision,
            "checks": {
                "ok": outcome.ok,
                "output": outcome.output,
                "failed_invariants": list(outcome.failed_invariants),
            },
            "replayed": 0,
            "changes": [],
        }
        with rt.read() as s:
            rows = s.scalars(
                select(PolicyDecision).order_by(PolicyDecision.created_at.desc()).limit(last)
            ).all()
        log = rt.settings.log_dir / "opa-dry-run.log"
        with OpaProcess(find_opa(rt.settings.opa_bin), log) as url:
            engine = PolicyEngine(url, rt.settings.opa_timeout_s)
            try:
                engine.load(staging)
            except DependencyDown as exc:
                report["error"] = f"the proposed set does not load: {exc.detail}"
                return report
            try:
                for row in reversed(rows):  # oldest first, as they were decided
                    after = engine.decide_document(row.input)
                    change = _change(row, after.model_dump(mode="json"))
                    if change:
                        report["changes"].append(change)
                    report["replayed"] += 1
            finally:
                engine.close()
    report["flipped"] = sum(1 for c in report["changes"] if c["change"] == "flip")
    report["obligations_changed"] = sum(
        1 for c in report["changes"] if c["change"] == "obligations"
    )
    return report
