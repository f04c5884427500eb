"""Disclosure reports: the reviewer sees rules, cells and parameters; the analyst rules and counts.

Neither view may hold the value of a suppressed cell.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import (
    TOTAL,
    AggregateFn,
    CellStats,
    CellTable,
    DisclosureConfig,
    analyst_report,
    assess,
    reviewer_report,
)

SECRET_SUM = 987654.321
SECRET_COUNT = 7
SECRET_MAX = 424242.5


def _table() -> CellTable:
    keys = (("Noord",), ("Zuid",), (TOTAL,))
    cells = (
        CellStats(0, "count", AggregateFn.COUNT, 40, 40),
        CellStats(0, "sum_x", AggregateFn.SUM, 400.0, 40, top=(10.0,) * 10, total=400.0),
        CellStats(0, "max_x", AggregateFn.MAX, 12.0, 40, at_or_below=40, at_or_above=15),
        CellStats(1, "count", AggregateFn.COUNT, SECRET_COUNT, SECRET_COUNT),
        CellStats(
            1,
            "sum_x",
            AggregateFn.SUM,
            SECRET_SUM,
            30,
            top=(SECRET_SUM - 29, 1.0),
            total=SECRET_SUM,
        ),
        CellStats(1, "max_x", AggregateFn.MAX, SECRET_MAX, 30, at_or_below=30, at_or_above=1),
        CellStats(2, "count", AggregateFn.COUNT, 47, 47),
        CellStats(
            2,
            "sum_x",
            AggregateFn.SUM,
            400.0 + SECRET_SUM,
            70,
            top=(SECRET_SUM - 29, 10.0),
            total=400.0 + SECRET_SUM,
        ),
        CellStats(2, "max_x", AggregateFn.MAX, SECRET_MAX, 70, at_or_below=70, at_or_above=1),
    )
    return CellTable(("region",), ("count", "sum_x", "max_x"), keys, cells)


def test_reviewer_report_names_rules_cells_and_group_keys() -> None:
    result = assess(_table(), DisclosureConfig())
    report = reviewer_report(result)
    by_rule = {r["rule"]: r for r in report["rules"]}
    assert by_rule["min_entities"]["cells"] == [[1, "count"]]
    assert by_rule["min_entities"]["group_keys"] == {"1": ["Zuid"]}
    assert [1, "sum_x"] in by_rule["dominance_nk"]["cells"]
    assert by_rule["order_statistic"]["cells"] == [[1, "max_x"], [2, "max_x"]]
    assert by_rule["order_statistic"]["group_keys"]["2"] == ["TOTAL"]
    assert report["parameters"]["min_entities"] == 10
    assert report["suppressed"] == result.suppressed_count
    safety = report["safety"]
    assert safety["smallest_released_entities"] == 40
    assert safety["largest_released_dominance_share"] == 0.05
    assert safety["smallest_released_order_side"] == 15
    assert safety["smallest_released_p_ratio"] == 38.0  # (400 - 10 - 10) / 10
    json.dumps(report)  # JSON-able


def test_analyst_report_has_rules_and_counts_only() -> None:
    result = assess(_table(), DisclosureConfig())
    report = analyst_report(result)
    assert report["rules"] == result.rule_counts()
    assert report["parameters"]["min_entities"] == 10
    text = json.dumps(report)
    assert 'cells": [' not in text and "group_keys" not in text and "Zuid" not in text


def test_no_report_holds_a_suppressed_value() -> None:
    result = assess(_table(), DisclosureConfig())
    for report in (reviewer_report(result), analyst_report(result)):
        text = json.dumps(report)
        for secret in (SECRET_SUM, SECRET_MAX, SECRET_SUM - 29, 400.0 + SECRET_SUM):
            assert repr(secret) not in text
            assert str(int(secret)) not in text


@settings(max_examples=60)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=20), st.integers(2, 25))
def test_reports_never_hold_suppressed_counts(counts: list[int], threshold: int) -> None:
    # Suppressed counts get a marker far outside every other number in the reports.
    keys = tuple((f"g{i}",) for i in range(len(counts)))
    cells = tuple(
        CellStats(r, "count", AggregateFn.COUNT, 10**9 + 7 * r if n < threshold else n, n)
        for r, n in enumerate(counts)
    )
    table = CellTable(("g",), ("count",), keys, cells)
    result = assess(table, DisclosureConfig(min_entities=threshold))
    for report in (reviewer_report(result), analyst_report(result)):
        text = json.dumps(report)
        for cell in table:
            if cell.key in result.suppressed:
                assert str(cell.value) not in text
