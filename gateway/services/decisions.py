"""Every policy decision: ask OPA, record input and outcome, audit it, then obey it."""

from __future__ import annotations

from gateway.audit.log import AuditContext, append
from gateway.core.errors import DependencyDown, PolicyDenied
from gateway.models import PolicyDecision
from gateway.policy.engine import Decision
from gateway.policy.input import PolicyInput
from gateway.services.runtime import Runtime


def decide(rt: Runtime, ctx: AuditContext, policy_input: PolicyInput, obj: str) -> Decision:
    """Return the decision when allowed, else raise PolicyDenied (403) or DependencyDown (503).

    Either way an audit entry is committed first.
    """
    try:
        decision = rt.engine().decide(policy_input)
    except DependencyDown as exc:
        with rt.write() as s:
            append(
                s,
                ctx,
                "policy.unavailable",
                obj,
                details={"action": policy_input.action, "allow": False, "error": str(exc.detail)},
            )
        raise
    with rt.write() as s:
        s.add(
            PolicyDecision(
                decision_id=decision.decision_id,
                action=policy_input.action,
                input=policy_input.model_dump(mode="json"),
                result=decision.model_dump(mode="json"),
                policy_revision=decision.policy_revision,
            )
        )
        append(
            s,
            ctx,
            "policy.decision",
            obj,
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details={
                "action": policy_input.action,
                "allow": decision.allow,
                "reasons": decision.reasons,
                "obligations": decision.obligations.model_dump(),
            },
        )
    if not decision.allow:
        raise PolicyDenied(decision.reasons, decision.decision_id)
    return decision
