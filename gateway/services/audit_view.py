"""Reading and verifying the audit log, for privacy officers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.audit.log import AuditContext, verify_session
from gateway.models import AuditEntry, User
from gateway.policy.input import PolicyInput
from gateway.services.datasets import user_in
from gateway.services.decisions import decide
from gateway.services.runtime import Runtime

MAX_PAGE = 1000


def _check(rt: Runtime, ctx: AuditContext, user: User) -> None:
    decide(rt, ctx, PolicyInput(action="read_audit", today=rt.today(), user=user_in(user)), "audit")


def entries(rt: Runtime, ctx: AuditContext, user: User, after: int, limit: int) -> dict[str, Any]:
    _check(rt, ctx, user)
    with rt.read() as s:
        rows = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > after)
            .order_by(AuditEntry.seq)
            .limit(min(limit, MAX_PAGE))
        ).all()
        items = [
            {
                "seq": e.seq,
                "ts": e.ts,
                "actor": e.actor,
                "action": e.action,
                "object": e.object,
                "decision_id": e.decision_id,
                "policy_revision": e.policy_revision,
                "details": e.details,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in rows
        ]
    return {"entries": items, "next_after": items[-1]["seq"] if items else after}


def verify(rt: Runtime, ctx: AuditContext, user: User) -> dict[str, Any]:
    _check(rt, ctx, user)
    with rt.read() as s:
        report = verify_session(s)
    return {
        "ok": report.ok,
        "entries": report.entries,
        "first_bad_seq": report.first_bad_seq,
        "problem": report.problem,
    }
