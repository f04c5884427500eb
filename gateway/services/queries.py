"""One aggregate query: policy decision, execution, disclosure control, release or hold."""

from __future__ import annotations

from typing import Any

from anonymiser import Assessment, CellTable, DisclosureConfig, assess
from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, NotFound
from gateway.engine import duckdb_engine
from gateway.engine.compile import ColumnInfo, compile_query
from gateway.engine.spec import QuerySpec
from gateway.models import Dataset, QueryRun, User
from gateway.policy.input import AggregateUse, ColumnUse, FilterUse, PolicyInput, QueryShape
from gateway.services import datasets as dataset_service
from gateway.services import projects as project_service
from gateway.services.decisions import decide
from gateway.services.lifecycle import ReleaseStatus
from gateway.services.runtime import Runtime


def schema_of(dataset: Dataset) -> dict[str, ColumnInfo]:
    return {c["name"]: ColumnInfo(c["name"], c["type"], c["role"]) for c in dataset.latest.columns}


def shape_of(spec: QuerySpec, schema: dict[str, ColumnInfo]) -> QueryShape:
    """The query as policy sees it: columns, roles and operators, never values."""

    def role(column: str, where: str) -> str:
        if column not in schema:
            raise BadInput(f"{where}: the dataset has no column {column}")
        return schema[column].role

    return QueryShape(
        dataset=spec.dataset,
        joins=[],
        group_by=[ColumnUse(column=c, role=role(c, "group_by")) for c in spec.group_by],
        filters=[
            FilterUse(column=f.column, role=role(f.column, "filter"), op=f.op) for f in spec.filters
        ],
        aggregates=[
            AggregateUse(
                fn=a.fn,
                column=a.column,
                role=role(a.column, f"aggregate {a.fn}") if a.column else None,
            )
            for a in spec.aggregates
        ],
    )


def run(
    rt: Runtime, ctx: AuditContext, user: User, project_id: str, spec: QuerySpec
) -> dict[str, Any]:
    if spec.joins:
        raise BadInput("joins are not supported yet: query one dataset at a time")
    with rt.read() as s:
        project = project_service.get(s, project_id)
        try:
            dataset = dataset_service.get(s, spec.dataset)
        except NotFound as exc:
            raise BadInput(f"dataset: no dataset {spec.dataset}") from exc
        version = dataset.latest
        schema = schema_of(dataset)
        policy_input = PolicyInput(
            action="query",
            today=rt.today(),
            user=dataset_service.user_in(user),
            project=project_service.project_in(rt, project, user),
            datasets=project_service.datasets_in(project, [dataset]),
            query=shape_of(spec, schema),
        )
        entity = dataset.entity_columns[0]
    compiled = compile_query(spec, schema, entity)  # bad columns/types: 422 before policy
    decision = decide(rt, ctx, policy_input, f"project:{project_id}")
    cells = duckdb_engine.run(compiled, dataset_service.load_table(rt, version))
    config = DisclosureConfig.from_obligations(decision.obligations.model_dump())
    assessment = assess(cells, config)
    result = released_result(cells, assessment)
    status = ReleaseStatus.HELD_FOR_REVIEW if config.review_required else ReleaseStatus.RELEASED
    with rt.write() as s:
        run_row = QueryRun(
            project_id=project_id,
            user_id=user.id,
            spec=spec.model_dump(mode="json"),
            status=status,
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            dataset_versions={dataset.id: version.version},
            result=result,
            disclosure=disclosure_report(assessment),
        )
        s.add(run_row)
        s.flush()
        append(
            s,
            ctx,
            f"query.{'held' if status is ReleaseStatus.HELD_FOR_REVIEW else 'released'}",
            f"query:{run_row.id}",
            decision_id=decision.decision_id,
            policy_revision=decision.policy_revision,
            details={
                "project": project_id,
                "dataset_versions": run_row.dataset_versions,
                "cells": len(cells),
                "suppressed": result["suppressed"],
                "rules": assessment.rule_counts(),
            },
        )
        return body(run_row)


def released_result(cells: CellTable, assessment: Assessment) -> dict[str, Any]:
    """Group keys and aggregate values, with every suppressed value replaced by null."""
    hidden = assessment.suppressed
    values: dict[tuple[int, str], object] = {c.key: c.value for c in cells}
    rows = []
    for r, key in enumerate(cells.keys):
        rows.append(
            [
                *key,
                *(
                    None if (r, name) in hidden else values.get((r, name))
                    for name in cells.value_columns
                ),
            ]
        )
    return {
        "columns": [*cells.group_columns, *cells.value_columns],
        "rows": rows,
        "suppressed": len(hidden),
    }


def disclosure_report(assessment: Assessment) -> dict[str, Any]:
    """The reviewer's view: parameters, and which rule fired on which cell."""
    return {
        "parameters": assessment.config.model_dump(),
        "rules": [
            {"rule": f.rule, "summary": f.summary, "cells": sorted([r, c] for r, c in f.suppress)}
            for f in assessment.findings
        ],
        "cells": len(assessment.verdicts),
        "suppressed": assessment.suppressed_count,
    }


def body(run_row: QueryRun) -> dict[str, Any]:
    """The analyst's view of a query: rows only once released."""
    released = run_row.status == ReleaseStatus.RELEASED
    return {
        "query_id": run_row.id,
        "project_id": run_row.project_id,
        "status": run_row.status,
        "columns": run_row.result["columns"],
        "group_columns": run_row.result["columns"][: len(run_row.spec.get("group_by", []))],
        "rows": run_row.result["rows"] if released else [],
        "suppressed": run_row.result["suppressed"],
        "decision_id": run_row.decision_id,
        "policy_revision": run_row.policy_revision,
        "disclosure": {
            "rules": {r["rule"]: len(r["cells"]) for r in run_row.disclosure["rules"]},
            "parameters": {"min_entities": run_row.disclosure["parameters"]["min_entities"]},
        },
    }


def record_export(rt: Runtime, ctx: AuditContext, project_id: str, query_id: str, fmt: str) -> None:
    """Audit that a released result left as a file."""
    with rt.write() as s:
        append(s, ctx, "query.exported", f"query:{query_id}", details={"format": fmt})


def get(rt: Runtime, user: User, project_id: str, query_id: str) -> dict[str, Any]:
    with rt.read() as s:
        run_row = s.get(QueryRun, query_id)
        if run_row is None or run_row.project_id != project_id:
            raise NotFound(f"no query {query_id} in project {project_id}")
        project = project_service.get(s, project_id)
        is_member = any(m.user_id == user.id for m in project.members)
        if not (run_row.user_id == user.id or is_member or user.role == "privacy_officer"):
            raise NotFound(f"no query {query_id} in project {project_id}")
        return body(run_row)
