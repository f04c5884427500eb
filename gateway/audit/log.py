"""The append-only, hash-chained audit log, and its verification.

Each entry's ``hash`` is SHA-256 over its canonical JSON content including
``prev_hash``, the previous entry's hash; the first entry chains to
:data:`GENESIS`. Editing, deleting or reordering entries breaks the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import AuditEntry

__all__ = ["GENESIS", "AuditContext", "ChainReport", "append", "entry_hash", "verify"]

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditContext:
    """Who is acting, passed to every state-changing call (it is never optional)."""

    actor: str
    request_id: str | None = None


def entry_hash(
    *,
    seq: int,
    ts: str,
    actor: str,
    action: str,
    object: str,
    decision_id: str | None,
    policy_revision: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    content = [seq, ts, actor, action, object, decision_id, policy_revision, details, prev_hash]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    session: Session,
    ctx: AuditContext,
    action: str,
    object: str,
    *,
    decision_id: str | None = None,
    policy_revision: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry at the head of the chain, inside the caller's transaction.

    Callers hold the gateway's write lock (``gateway.services.uow``); the unique
    ``prev_hash`` column stops a forked chain even if two processes race.
    """
    head = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).first()
    seq = head.seq + 1 if head else 1
    prev = head.hash if head else GENESIS
    ts = datetime.now(UTC).isoformat(timespec="microseconds")
    body = dict(details or {})
    if ctx.request_id:
        body.setdefault("request_id", ctx.request_id)
    # Round-trip through JSON so the hash covers exactly what the database returns.
    body = json.loads(json.dumps(body, sort_keys=True, default=str))
    fields = dict(
        seq=seq,
        ts=ts,
        actor=ctx.actor,
        action=action,
        object=object,
        decision_id=decision_id,
        policy_revision=policy_revision,
        details=body,
        prev_hash=prev,
    )
    entry = AuditEntry(**fields, hash=entry_hash(**fields))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(entries: Iterable[AuditEntry]) -> ChainReport:
    """Walk the chain in ``seq`` order; report the first entry that breaks it."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for e in entries:
        if e.seq != expected_seq:
            return ChainReport(False, count, e.seq, f"expected seq {expected_seq}: entry missing")
        if e.prev_hash != prev:
            return ChainReport(False, count, e.seq, "prev_hash does not match the entry before")
        recomputed = entry_hash(
            seq=e.seq,
            ts=e.ts,
            actor=e.actor,
            action=e.action,
            object=e.object,
            decision_id=e.decision_id,
            policy_revision=e.policy_revision,
            details=e.details,
            prev_hash=e.prev_hash,
        )
        if recomputed != e.hash:
            return ChainReport(False, count, e.seq, "content does not match its hash")
        prev = e.hash
        expected_seq += 1
        count += 1
    return ChainReport(True, count)


def verify_session(session: Session) -> ChainReport:
    """Verify the whole chain stored in the database."""
    return verify(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).yield_per(1000))
