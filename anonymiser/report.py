"""Disclosure reports of one assessment, as JSON-able dicts: a reviewer view and an analyst view.

The reviewer (privacy officer) sees the parameters, per rule the cells it
fired on with their rows' group keys, the scan findings, and why the released
rest is safe. The analyst sees rules and counts only. Neither ever holds the
value of a suppressed cell; a group key the scan flagged is masked too.
"""

from __future__ import annotations

import math
from typing import Any

from anonymiser.assess import Assessment
from anonymiser.cells import TOTAL, CellTable
from anonymiser.rules import is_valid_cell

__all__ = ["ANALYST_PARAMETERS", "analyst_report", "reviewer_report"]

# What an analyst may know about how their table was protected.
ANALYST_PARAMETERS = (
    "min_entities",
    "dominance_n",
    "dominance_k",
    "p_percent",
    "rounding_base",
    "class_disclosure",
    "zeros_disclosive",
)
_MASKED = "[identifier]"


def _label(value: object) -> object:
    """A group key as JSON: TOTAL by name, non-finite floats and other objects as text."""
    if value is TOTAL:
        return "TOTAL"
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def _keys(table: CellTable, row: int, masked: set[tuple[int, str]]) -> list[object]:
    return [
        _MASKED if (row, col) in masked else _label(v)
        for col, v in zip(table.group_columns, table.keys[row], strict=True)
    ]


def _safety(assessment: Assessment) -> dict[str, Any]:
    """Why the released rest is safe: the weakest released cell under each rule."""
    table = assessment.table
    released = assessment.released
    cells = [c for c in table or () if c.key in released and is_valid_cell(c)]
    entities = [c.entities for c in cells]
    shares = [
        math.fsum(c.top[: assessment.config.dominance_n]) / c.total
        for c in cells
        if c.fn.is_magnitude and c.total and c.top
    ]
    # What the runner-up cannot see, as a share of the largest contribution (p% rule).
    hidden = [
        (c.total - c.top[0] - (c.top[1] if len(c.top) > 1 else 0.0)) / c.top[0]
        for c in cells
        if c.fn.is_magnitude and c.total is not None and c.top and c.top[0] > 0
    ]
    sides = [
        min(c.at_or_below, c.at_or_above)
        for c in cells
        if c.fn.is_order_statistic and c.at_or_below is not None and c.at_or_above is not None
    ]
    return {
        "released_cells": len(released),
        "smallest_released_entities": min(entities) if entities else None,
        "largest_released_dominance_share": round(max(shares), 4) if shares else None,
        "smallest_released_p_ratio": round(min(hidden), 4) if hidden else None,
        "smallest_released_order_side": min(sides) if sides else None,
        "rounded_cells": len(assessment.rounded),
        "blocked_by_scan": assessment.blocked,
    }


def _hidden_names(assessment: Assessment) -> dict[str, str]:
    """Column names the scan flagged, mapped to their position ("column <i>")."""
    table = assessment.table
    names = (table.group_columns + table.value_columns) if table else ()
    flagged = {f.column for f in assessment.scan if f.part == "column_name"}
    return {name: f"column {i}" for i, name in enumerate(names) if f"column {i}" in flagged}


def reviewer_report(assessment: Assessment) -> dict[str, Any]:
    """The reviewer view: parameters, per-rule cells and group keys, scan findings, safety."""
    table = assessment.table
    hidden = _hidden_names(assessment)
    masked = {
        (f.row, f.column) for f in assessment.scan if f.part == "group_key" and f.row is not None
    }
    rules = []
    for finding in assessment.findings:
        cells = sorted(finding.suppress)
        rows = sorted({row for row, _ in cells})
        entry: dict[str, Any] = {
            "rule": finding.rule,
            "summary": finding.summary,
            "count": len(cells),
            "cells": [[row, hidden.get(column, column)] for row, column in cells],
        }
        if table is not None:
            entry["group_keys"] = {
                str(r): _keys(table, r, masked) for r in rows if r < len(table.keys)
            }
        rules.append(entry)
    return {
        "view": "reviewer",
        "parameters": assessment.config.model_dump(mode="json"),
        "group_columns": [hidden.get(c, c) for c in table.group_columns] if table else [],
        "cells": len(assessment.verdicts),
        "suppressed": assessment.suppressed_count,
        "primary": len(assessment.primary),
        "rules": rules,
        "scan": {
            "blocked": assessment.blocked,
            "findings": [
                {"part": f.part, "row": f.row, "column": f.column, "detector": f.detector}
                for f in assessment.scan
            ],
        },
        "safety": _safety(assessment),
    }


def analyst_report(assessment: Assessment) -> dict[str, Any]:
    """The analyst view: rules and counts, the parameters that shaped the table; no positions."""
    config = assessment.config.model_dump(mode="json")
    detectors: dict[str, int] = {}
    for f in assessment.scan:
        detectors[f.detector] = detectors.get(f.detector, 0) + 1
    return {
        "view": "analyst",
        "parameters": {name: config[name] for name in ANALYST_PARAMETERS},
        "cells": len(assessment.verdicts),
        "suppressed": assessment.suppressed_count,
        "rules": assessment.rule_counts(),
        "blocked": assessment.blocked,
        "scan": detectors,
    }
