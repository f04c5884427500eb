"""One aggregate query: policy decision, execution, disclosure control, release or hold.

The order matters and is the same for every query:

1. the spec is checked against the schemas of every dataset it names (422 before
   anything else), then described to the policy engine, which decides once;
2. the engine computes per-cell statistics (no row reaches Python);
3. the anonymiser judges every cell: primary rules and differencing against
   what the project released before, secondary suppression audited by LP
   (also against margins released earlier), differential privacy when the
   obligations give an epsilon (charged to the project's budget), rounding
   and the output scan;
4. the result is released, held for review or blocked, and recorded with the
   decision, the policy revision and the dataset versions behind it.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymiser import RULES, TOTAL, Assessment, CellTable, DisclosureConfig, assess
from anonymiser.differencing import differencing_rule
from anonymiser.dp import PrivacyLedger, apply_dp
from anonymiser.report import analyst_report, reviewer_report
from anonymiser.secondary import protect
from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, NotFound, PolicyDenied
from gateway.engine.columns import ColumnInfo
from gateway.engine.plan import Plan, plan
from gateway.engine.runner import EngineOptions, execute_plan
from gateway.engine.spec import QuerySpec
from gateway.models import Dataset, DatasetVersion, QueryRun, User
from gateway.policy.input import (
    AggregateUse,
    ColumnUse,
    FilterUse,
    JoinUse,
    PolicyInput,
    QueryShape,
)
from gateway.services import datasets as dataset_service
from gateway.services import keys, release_state
from gateway.services import projects as project_service
from gateway.services.decisions import decide
from gateway.services.lifecycle import ReleaseStatus
from gateway.services.runtime import Runtime
from gateway.services.tables import load_table

# A project whose obligations give a per-query epsilon but no budget may spend
# this many queries' worth: a policy that wants more must say so (dp_budget).
DEFAULT_BUDGET_QUERIES = 10


def schema_of(version: DatasetVersion) -> dict[str, ColumnInfo]:
    """The columns of one dataset version as the engine sees them."""
    return {c["name"]: ColumnInfo(c["name"], c["type"], c["role"]) for c in version.columns}


def shape_of(p: Plan) -> QueryShape:
    """The query as policy sees it: columns, roles and operators, never values."""
    return QueryShape(
        dataset=p.base,
        joins=[
            JoinUse(
                dataset=j.dataset, on=j.left.column, on_role=j.left.info.role, on_is_entity=True
            )
            for j in p.joins
        ],
        group_by=[ColumnUse(column=g.ref.column, role=g.ref.info.role) for g in p.groups],
        filters=[FilterUse(column=f.ref.column, role=f.ref.info.role, op=f.op) for f in p.filters],
        aggregates=[
            AggregateUse(
                fn=a.fn,
                column=a.ref.column if a.ref else None,
                role=a.ref.info.role if a.ref else None,
            )
            for a in p.aggregates
        ],
    )


def _datasets(s: Session, spec: QuerySpec) -> list[Dataset]:
    found = []
    where = {j.dataset: f"join {j.dataset}" for j in spec.joins} | {spec.dataset: "dataset"}
    for dataset_id, field in where.items():
        try:
            found.append(dataset_service.get(s, dataset_id))
        except NotFound as exc:
            raise BadInput(f"{field}: {exc.detail}") from exc
    return found


def _versions(spec: QuerySpec, datasets: list[Dataset]) -> dict[str, DatasetVersion]:
    pinned = spec.dataset_versions
    unknown = set(pinned) - {d.id for d in datasets}
    if unknown:
        raise BadInput("dataset_versions names a dataset the query does not use")
    return {d.id: dataset_service.version_of(d, pinned.get(d.id)) for d in datasets}


def _sensitive(p: Plan, cells: CellTable) -> CellTable:
    """Mark plain category group columns as sensitive (class disclosure looks at them)."""
    names = {
        g.name
        for g in p.groups
        if g.ref.info.role == "category" and g.trunc is None and g.bins is None
    }
    return replace(cells, sensitive=frozenset(names) & set(cells.group_columns))


def _family(spec: QuerySpec) -> str:
    """What makes two queries tables of one family: same data, joins and filters."""
    return json.dumps(
        {
            "dataset": spec.dataset,
            "joins": [j.model_dump(mode="json") for j in spec.joins],
            "filters": [f.model_dump(mode="json") for f in spec.filters],
            "versions": spec.dataset_versions,
        },
        sort_keys=True,
    )


def _group_names(spec: QuerySpec) -> list[str]:
    return [g if isinstance(g, str) else g.output_name for g in spec.group_by]


def prior_margins(
    s: Session, project_id: str, spec: QuerySpec, cells: CellTable
) -> dict[tuple[tuple[object, ...], str], float]:
    """Values of this table's margins that earlier released queries already published.

    An earlier query of the same family grouped by a subset of this query's
    group columns released, for each of its rows, the margin of this table over
    the columns it left out. Secondary suppression must treat them as public.
    """
    family, mine = _family(spec), _group_names(spec)
    wanted = set(cells.value_columns)
    prior: dict[tuple[tuple[object, ...], str], float] = {}
    earlier = s.scalars(
        select(QueryRun).where(
            QueryRun.project_id == project_id, QueryRun.status == ReleaseStatus.RELEASED
        )
    )
    for run_row in earlier:
        try:
            old_spec = QuerySpec.model_validate(run_row.spec)
        except ValueError:
            continue
        theirs = _group_names(old_spec)
        if _family(old_spec) != family or not set(theirs) <= set(mine) or theirs == mine:
            continue
        columns = run_row.result["columns"]
        width = len(theirs)
        for row in run_row.result["rows"]:
            by_name = dict(zip(theirs, row[:width], strict=True))
            key = tuple(by_name.get(name, TOTAL) for name in mine)
            for name, value in zip(columns[width:], row[width:], strict=True):
                if name in wanted and isinstance(value, int | float):
                    prior[(key, name)] = float(value)
    return prior


def _ledger(s: Session, project_id: str, config: DisclosureConfig) -> PrivacyLedger:
    assert config.dp_epsilon is not None
    budget = config.dp_budget or config.dp_epsilon * DEFAULT_BUDGET_QUERIES
    return PrivacyLedger(budget, tuple(release_state.charges(s, project_id)))


def _check_budget(rt: Runtime, project_id: str, config: DisclosureConfig) -> None:
    if config.dp_epsilon is None:
        return
    with rt.read() as s:
        ledger = _ledger(s, project_id, config)
    if not ledger.can_charge(config.dp_epsilon):
        raise PolicyDenied(
            [
                f"privacy budget: this query needs epsilon {config.dp_epsilon:g} but the project "
                f"has {ledger.remaining:g} of {ledger.budget:g} left; a privacy officer can "
                "raise dp_budget in the legal-basis catalogue"
            ]
        )


def judge(
    cells: CellTable,
    config: DisclosureConfig,
    released_sketches: list[bytes],
    prior: dict[tuple[tuple[object, ...], str], float],
) -> tuple[Assessment, dict[tuple[int, str], float | int], float]:
    """Every disclosure rule over one result.

    Returns the assessment, the value to show per released cell and the epsilon spent.
    """
    rules = (*RULES, differencing_rule(released_sketches)) if config.differencing else RULES
    assessment = assess(cells, config, rules)
    if assessment.primary and (any(cells.is_margin(r) for r in range(len(cells.keys))) or prior):
        secondary = protect(cells, assessment.primary, config, prior or None)
        assessment = assessment.with_secondary(secondary.complementary - assessment.primary)
    if config.dp_epsilon is None:
        return assessment, assessment.released_values(), 0.0
    noised = apply_dp(cells, config)
    assessment = assessment.with_secondary(noised.not_noised, rule="differential_privacy")
    values = {k: noised.values[k] for k in assessment.released_values() if k in noised.values}
    return assessment, values, noised.epsilon_spent


def run(
    rt: Runtime, ctx: AuditContext, user: User, project_id: str, spec: QuerySpec
) -> dict[str, Any]:
    """Decide, compute, judge and record one query; the analyst's view of its result."""
    with rt.read() as s:
        project = project_service.get(s, project_id)
        datasets = _datasets(s, spec)
        versions = _versions(spec, datasets)
        schemas = {d: schema_of(v) for d, v in versions.items()}
        entity_columns = {d.id: list(d.entity_columns) for d in datasets}
        checked = plan(spec, schemas, entity_columns)  # bad names or values: 422 before policy
        policy_input = PolicyInput(
            action="query",
            today=rt.today(),
            user=dataset_service.user_in(user),
            project=project_service.project_in(rt, project, user),
            datasets=project_service.datasets_in(project, datasets),
            query=shape_of(checked),
        )
    decision = decide(rt, ctx, policy_input, f"project:{project_id}")
    config = DisclosureConfig.from_obligations(decision.obligations.model_dump())
    _check_budget(rt, project_id, config)
    dp = config.dp_epsilon is not None
    options = EngineOptions(
        sketches=config.differencing,
        dp_max_groups=config.dp_max_groups if dp else None,
        dp_clip=(config.dp_clip or 1.0) if dp else None,
        top_contributors=max(config.dominance_n, 2),  # the (n,k) rule's n; p% reads two
    )
    tables = {d: load_table(rt, v, project_id=project_id) for d, v in versions.items()}
    cells = _sensitive(checked, execute_plan(checked, tables, options))
    master = keys.current_master_key(rt)  # sketches are sealed under it
    with rt.read() as s:
        sketches = release_state.released_sketches(s, master, project_id)
        prior = prior_margins(s, project_id, spec, cells) if config.rounding_base == 1 else {}
    assessment, values, epsilon = judge(cells, config, sketches, prior)
    if assessment.blocked:
        status = ReleaseStatus.BLOCKED
    elif config.review_required:
        status = ReleaseStatus.HELD_FOR_REVIEW
    else:
        status = ReleaseStatus.RELEASED
    result = released_result(cells, assessment, values)
    with rt.write() as s:
        if dp:
            ledger = _ledger(s, project_id, config)
            if not ledger.can_charge(epsilon):  # another query spent it meanwhile
                raise PolicyDenied(["privacy budget: exhausted by a concurrent query"])
        run_row = QueryRun(
            project_id=project_id,
            user_id=user.id,
            spec=spec.model_dump(mode="json"),
            status=status,
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            dataset_versions={d: v.version for d, v in versions.items()},
            result=result,
            disclosure={
                "reviewer": reviewer_report(assessment),
                "analyst": analyst_report(assessment),
                "epsilon": epsilon,
            },
        )
        s.add(run_row)
        s.flush()
        if dp:
            release_state.charge(s, project_id, run_row.id, epsilon)
        if status is not ReleaseStatus.BLOCKED and cells.sketches:
            shown = {r for r, _ in assessment.released}
            kept = [cells.sketches[r] for r in sorted(shown) if cells.sketches[r] is not None]
            release_state.record_sketches(s, master, project_id, run_row.id, kept)  # type: ignore[arg-type]
        append(
            s,
            ctx,
            f"query.{status.value}",
            f"query:{run_row.id}",
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details={
                "project": project_id,
                "dataset_versions": run_row.dataset_versions,
                "cells": len(cells),
                "suppressed": result["suppressed"],
                "rules": assessment.rule_counts(),
                "epsilon": epsilon,
                "output_scan_hits": len(assessment.scan),
            },
        )
        return body(run_row)


def _key_out(value: object) -> object:
    return "Total" if value is TOTAL else value


def released_result(
    cells: CellTable, assessment: Assessment, values: dict[tuple[int, str], float | int]
) -> dict[str, Any]:
    """Group keys and released values; every other value is null.

    A blocked result (the output scan found an identifier) keeps no rows at
    all: its group keys are what could hold the identifier.
    """
    rows: list[list[Any]] = []
    if not assessment.blocked:
        for r, key in enumerate(cells.keys):
            rows.append(
                [*map(_key_out, key), *(values.get((r, name)) for name in cells.value_columns)]
            )
    return {
        "columns": [*cells.group_columns, *cells.value_columns],
        "rows": rows,
        "margin_rows": [r for r in range(len(cells.keys)) if cells.is_margin(r)],
        "suppressed": len(cells) - len(values),
    }


def body(run_row: QueryRun) -> dict[str, Any]:
    """The analyst's view of a query: rows only once released."""
    released = run_row.status == ReleaseStatus.RELEASED
    analyst = run_row.disclosure.get("analyst", {})
    return {
        "query_id": run_row.id,
        "project_id": run_row.project_id,
        "status": run_row.status,
        "columns": run_row.result["columns"],
        "group_columns": run_row.result["columns"][: len(run_row.spec.get("group_by", []))],
        "rows": run_row.result["rows"] if released else [],
        "margin_rows": run_row.result.get("margin_rows", []) if released else [],
        "suppressed": run_row.result["suppressed"],
        "decision_id": run_row.decision_id,
        "policy_revision": run_row.policy_revision,
        "dataset_versions": run_row.dataset_versions,
        "disclosure": analyst,
    }


def reviewer_view(rt: Runtime, user: User, project_id: str, query_id: str) -> dict[str, Any]:
    """The full disclosure report of one query (privacy officers only)."""
    if user.role != "privacy_officer":
        raise NotFound(f"no disclosure report for query {query_id}")
    with rt.read() as s:
        run_row = s.get(QueryRun, query_id)
        if run_row is None or run_row.project_id != project_id:
            raise NotFound(f"no query {query_id} in project {project_id}")
        return {
            "query_id": run_row.id,
            "status": run_row.status,
            "decision_id": run_row.decision_id,
            "policy_revision": run_row.policy_revision,
            **run_row.disclosure.get("reviewer", {}),
            "epsilon": run_row.disclosure.get("epsilon", 0.0),
        }


def record_export(rt: Runtime, ctx: AuditContext, project_id: str, query_id: str, fmt: str) -> None:
    """Audit that a released result left as a file."""
    with rt.write() as s:
        append(s, ctx, "query.exported", f"query:{query_id}", details={"format": fmt})


def get(rt: Runtime, user: User, project_id: str, query_id: str) -> dict[str, Any]:
    """A query's result as its requester, a project member or a privacy officer sees it."""
    with rt.read() as s:
        run_row = s.get(QueryRun, query_id)
        if run_row is None or run_row.project_id != project_id:
            raise NotFound(f"no query {query_id} in project {project_id}")
        project = project_service.get(s, project_id)
        is_member = any(m.user_id == user.id for m in project.members)
        if not (run_row.user_id == user.id or is_member or user.role == "privacy_officer"):
            raise NotFound(f"no query {query_id} in project {project_id}")
        return body(run_row)
