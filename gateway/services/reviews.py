"""Human review of held results: two distinct privacy officers, neither the requester."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from gateway.audit.log import AuditContext, append
from gateway.core.errors import Conflict, NotFound
from gateway.models import QueryRun, Review, User
from gateway.policy.input import PolicyInput, ReviewIn
from gateway.services import datasets as dataset_service
from gateway.services import projects as project_service
from gateway.services import queries as query_service
from gateway.services.decisions import decide
from gateway.services.lifecycle import RELEASE_TRANSITIONS, ReleaseStatus, move
from gateway.services.runtime import Runtime

APPROVALS_NEEDED = 2


class ReviewDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    decision: Literal["approve", "reject"]
    comment: str = Field(default="", max_length=2000)


def pending(rt: Runtime, ctx: AuditContext, user: User) -> list[dict[str, Any]]:
    policy_input = PolicyInput(
        action="list_reviews", today=rt.today(), user=dataset_service.user_in(user)
    )
    decide(rt, ctx, policy_input, "reviews")
    with rt.read() as s:
        held = s.scalars(
            select(QueryRun)
            .where(QueryRun.status == ReleaseStatus.HELD_FOR_REVIEW)
            .order_by(QueryRun.created_at)
        )
        return [
            {
                **query_service.body(q),
                "requested_by": q.requester.username,
                "held_rows": q.result["rows"],
                "spec": q.spec,
                "disclosure_report": q.disclosure.get("reviewer", q.disclosure),
                "approvals": sum(1 for r in q.reviews if r.decision == "approve"),
                "approvals_needed": APPROVALS_NEEDED,
            }
            for q in held
        ]


def review(
    rt: Runtime, ctx: AuditContext, user: User, query_id: str, body: ReviewDecision
) -> dict[str, Any]:
    with rt.read() as s:
        run_row = s.get(QueryRun, query_id)
        if run_row is None:
            raise NotFound(f"no query {query_id}")
        project = project_service.get(s, run_row.project_id)
        policy_input = PolicyInput(
            action="review",
            today=rt.today(),
            user=dataset_service.user_in(user),
            project=project_service.project_in(rt, project, user),
            review=ReviewIn(requested_by=run_row.requester.username),
        )
    decision = decide(rt, ctx, policy_input, f"query:{query_id}")
    with rt.write() as s:
        run_row = s.get(QueryRun, query_id)
        assert run_row is not None
        current = ReleaseStatus(run_row.status)
        if current is not ReleaseStatus.HELD_FOR_REVIEW:
            raise Conflict(f"query is {current}; only held results are reviewed")
        if any(r.reviewer_id == user.id for r in run_row.reviews):
            raise Conflict("you have already reviewed this result; a second reviewer must decide")
        s.add(
            Review(
                query_id=query_id, reviewer_id=user.id, decision=body.decision, comment=body.comment
            )
        )
        s.flush()
        s.refresh(run_row)
        approvals = sum(1 for r in run_row.reviews if r.decision == "approve")
        if body.decision == "reject":
            run_row.status = move(RELEASE_TRANSITIONS, current, ReleaseStatus.REJECTED)
        elif approvals >= APPROVALS_NEEDED:
            run_row.status = move(RELEASE_TRANSITIONS, current, ReleaseStatus.RELEASED)
        append(
            s,
            ctx,
            f"review.{body.decision}",
            f"query:{query_id}",
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details={"status": run_row.status, "approvals": approvals},
        )
        return {
            **query_service.body(run_row),
            "approvals": approvals,
            "approvals_needed": APPROVALS_NEEDED,
        }
