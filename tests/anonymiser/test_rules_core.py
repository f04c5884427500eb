"""Dominance (n,k), p%, order statistics and bad values; plus builders other tests import.

The builders turn per-entity raw values into the statistics the engine would
compute, so tests state data the way an attacker thinks about it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig, Status, assess
from anonymiser.cells import TOP_CONTRIBUTORS
from anonymiser.rules import dominance_nk, order_statistic, p_percent

# ---------------------------------------------------------------- builders


def magnitude_cell(
    row: int, column: str, fn: AggregateFn, contributions: Sequence[float]
) -> CellStats:
    """A sum or mean over per-entity contributions, with the engine's dominance statistics."""
    absolute = sorted((abs(c) for c in contributions), reverse=True)
    total = math.fsum(contributions)
    value = total if fn is AggregateFn.SUM else total / max(len(contributions), 1)
    return CellStats(
        row,
        column,
        fn,
        value,
        len(contributions),
        top=tuple(absolute[:TOP_CONTRIBUTORS]),
        total=math.fsum(absolute),
    )


def order_cell(row: int, column: str, fn: AggregateFn, values: Sequence[float]) -> CellStats:
    """An order statistic over per-entity values, with the counts on either side."""
    ordered = sorted(values)
    q = fn.quantile
    assert q is not None
    value = ordered[round(q * (len(ordered) - 1))]
    below = sum(1 for v in values if v <= value)
    above = sum(1 for v in values if v >= value)
    return CellStats(row, column, fn, value, len(values), at_or_below=below, at_or_above=above)


def count_cell(row: int, column: str, n: int) -> CellStats:
    """A distinct-entity count."""
    return CellStats(row, column, AggregateFn.COUNT, n, n)


def table_from_frame(
    df: pd.DataFrame,
    group_by: Sequence[str],
    entity: str,
    aggregates: dict[str, tuple[AggregateFn, str | None]],
    sensitive: frozenset[str] = frozenset(),
    keys: Sequence[tuple[object, ...]] | None = None,
) -> CellTable:
    """Compute a CellTable from rows the way the engine does: per entity, then per group.

    ``keys`` fixes the rows (e.g. the full cross product, empty groups included).
    """
    groups = {k if isinstance(k, tuple) else (k,): g for k, g in df.groupby(list(group_by))}
    keys = list(keys) if keys is not None else sorted(groups)
    cells: list[CellStats] = []
    for r, key in enumerate(keys):
        g = groups.get(tuple(key), df.iloc[0:0])
        for name, (fn, measure) in aggregates.items():
            if fn is AggregateFn.COUNT:
                cells.append(count_cell(r, name, g[entity].nunique()))
            elif fn is AggregateFn.COUNT_ROWS:
                cells.append(CellStats(r, name, fn, len(g), g[entity].nunique()))
            elif fn.is_magnitude:
                per_entity = g.groupby(entity)[measure].sum().tolist()
                cell = magnitude_cell(r, name, fn, per_entity)
                if fn is AggregateFn.MEAN and len(g):
                    cell = CellStats(**{**cell.__dict__, "value": float(g[measure].mean())})
                cells.append(cell)
            else:
                cells.append(_order_from_rows(r, name, fn, g, entity, measure))
    return CellTable(
        tuple(group_by), tuple(aggregates), tuple(tuple(k) for k in keys), tuple(cells), sensitive
    )


def _order_from_rows(
    row: int, name: str, fn: AggregateFn, g: pd.DataFrame, entity: str, measure: str | None
) -> CellStats:
    """An order statistic over a group's rows; side counts are distinct entities."""
    values = sorted(g[measure].tolist()) if len(g) else []
    q = fn.quantile
    if not values or q is None:
        return CellStats(row, name, fn, None, 0)
    value = values[round(q * (len(values) - 1))]
    below = g.loc[g[measure] <= value, entity].nunique()
    above = g.loc[g[measure] >= value, entity].nunique()
    entities = g[entity].nunique()
    return CellStats(row, name, fn, value, entities, at_or_below=below, at_or_above=above)


def one_cell(cell: CellStats) -> CellTable:
    """A table of one row holding one cell."""
    return CellTable(("g",), (cell.column,), (("a",),), (cell,))


def released(cell: CellStats, config: DisclosureConfig | None = None) -> bool:
    """Whether assess releases this cell on its own."""
    result = assess(one_cell(cell), config or DisclosureConfig(min_entities=1))
    return result.verdicts[0].status is Status.RELEASED


# ---------------------------------------------------------------- dominance (n,k)

contributions = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=0, max_size=40)


@pytest.mark.parametrize(
    ("values", "suppressed"),
    [
        ([50, 40] + [1] * 10, True),  # top two hold 90 of 100
        ([10] * 12, False),  # top two hold 20 of 120
        ([1_000_000] + [1] * 30, True),  # one big contributor
    ],
)
def test_dominance_examples(values: list[float], suppressed: bool) -> None:
    cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, values)
    assert (cell.key in dominance_nk(one_cell(cell), DisclosureConfig()).suppress) is suppressed


def test_dominance_boundary_is_inclusive() -> None:
    cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, [60, 25, 5, 5, 5])  # exactly 85%
    assert cell.key in dominance_nk(one_cell(cell), DisclosureConfig()).suppress
    cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, [60, 24, 6, 5, 5])  # 84%
    assert cell.key not in dominance_nk(one_cell(cell), DisclosureConfig()).suppress


@settings(max_examples=150)
@given(
    contributions,
    st.integers(1, 10),
    st.floats(1, 100),
    st.sampled_from([AggregateFn.SUM, AggregateFn.MEAN]),
)
def test_dominated_cell_is_never_released(
    values: list[float], n: int, k: float, fn: AggregateFn
) -> None:
    cell = magnitude_cell(0, "v", fn, values)
    config = DisclosureConfig(min_entities=1, dominance_n=n, dominance_k=k, p_percent=0)
    total = math.fsum(values)
    top_n = math.fsum(sorted(values, reverse=True)[:n])
    if total > 0 and top_n >= k / 100 * total:
        assert not released(cell, config)
    if total > 0 and top_n < k / 100 * total * (1 - 1e-9):
        assert cell.key not in dominance_nk(one_cell(cell), config).suppress


def test_missing_dominance_statistics_suppress() -> None:
    bare = CellStats(0, "sum_x", AggregateFn.SUM, 1000.0, 50)
    assert not released(bare)
    short = CellStats(0, "sum_x", AggregateFn.SUM, 1000.0, 50, top=(10.0,), total=1000.0)
    assert cell_hit(short, "dominance_nk")


def test_all_zero_sum_has_nothing_to_dominate() -> None:
    cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, [0.0] * 12)
    assert released(cell, DisclosureConfig())


def test_one_or_two_entities_always_dominate() -> None:
    for values in ([5.0], [5.0, 5.0]):
        cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, values)
        assert cell_hit(cell, "dominance_nk")


def cell_hit(cell: CellStats, rule: str) -> bool:
    """Whether ``rule`` suppresses this cell (min_entities 1, so only the rule itself counts)."""
    verdict = assess(one_cell(cell), DisclosureConfig(min_entities=1)).verdicts[0]
    return rule in verdict.rules


# ---------------------------------------------------------------- p%


@settings(max_examples=150)
@given(contributions, st.floats(0, 100))
def test_p_percent_is_never_violated(values: list[float], p: float) -> None:
    config = DisclosureConfig(min_entities=1, dominance_k=100, dominance_n=10, p_percent=p)
    cell = magnitude_cell(0, "v", AggregateFn.SUM, values)
    ordered = [*sorted(values, reverse=True), 0.0, 0.0]
    rest = math.fsum(values) - ordered[0] - ordered[1]
    # A margin for float rounding: the rule and this test add up in different orders.
    if rest < p / 100 * ordered[0] - 1e-9 * math.fsum(values):
        assert not released(cell, config)
        assert cell.key in p_percent(one_cell(cell), config).suppress


def test_p_percent_example() -> None:
    # The second-largest (30) cannot see 10 of the other 70: not within 10% of 60.
    cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, [60, 30, 5, 5])
    assert not cell_hit(cell, "p_percent")
    cell = magnitude_cell(0, "sum_x", AggregateFn.SUM, [60, 36, 2, 2])  # 4 < 6
    assert cell_hit(cell, "p_percent")


# ---------------------------------------------------------------- order statistics


@pytest.mark.parametrize("fn", [f for f in AggregateFn if f.is_order_statistic])
def test_order_statistic_needs_entities_on_both_sides(fn: AggregateFn) -> None:
    config = DisclosureConfig(min_entities=5)
    many = order_cell(0, fn.value, fn, [float(v % 7) for v in range(60)])
    expect = many.at_or_below is not None and many.at_or_above is not None
    expect = expect and min(many.at_or_below or 0, many.at_or_above or 0) >= 5
    hit = many.key in order_statistic(one_cell(many), config).suppress
    assert hit is not expect
    distinct = order_cell(0, fn.value, fn, [float(v) for v in range(60)])
    if fn.is_extreme:
        assert distinct.key in order_statistic(one_cell(distinct), config).suppress


def test_max_shared_by_enough_entities_is_released() -> None:
    cell = order_cell(0, "max_x", AggregateFn.MAX, [1.0] * 5 + [9.0] * 10)
    assert released(cell, DisclosureConfig(min_entities=10))
    cell = order_cell(0, "max_x", AggregateFn.MAX, [1.0] * 14 + [9.0])
    assert not released(cell, DisclosureConfig(min_entities=10))


def test_order_statistic_without_side_counts_is_suppressed() -> None:
    cell = CellStats(0, "median_x", AggregateFn.MEDIAN, 5.0, 100)
    assert cell_hit(cell, "order_statistic")


# ---------------------------------------------------------------- bad values

BAD_CELLS = [
    CellStats(0, "count", AggregateFn.COUNT, float("nan"), 50),
    CellStats(0, "count", AggregateFn.COUNT, float("inf"), 50),
    CellStats(0, "count", AggregateFn.COUNT, -3, 50),
    CellStats(0, "count", AggregateFn.COUNT, 2.5, 50),
    CellStats(0, "count", AggregateFn.COUNT, None, 50),
    CellStats(0, "count", AggregateFn.COUNT, 50, -1),
    CellStats(0, "count", AggregateFn.COUNT, True, 50),
    CellStats(0, "sum_x", AggregateFn.SUM, float("-inf"), 50, top=(1.0,) * 10, total=50.0),
    CellStats(0, "sum_x", AggregateFn.SUM, 50.0, 50, top=(float("nan"),) * 10, total=50.0),
    CellStats(0, "sum_x", AggregateFn.SUM, 50.0, 50, top=(1.0,) * 10, total=float("nan")),
    CellStats(0, "sum_x", AggregateFn.SUM, 50.0, 50, top=(-1.0,) * 10, total=50.0),
    CellStats(0, "max_x", AggregateFn.MAX, 5.0, 50, at_or_below=-50, at_or_above=50),
]


@pytest.mark.parametrize("cell", BAD_CELLS, ids=range(len(BAD_CELLS)))
def test_bad_values_are_suppressed_as_invalid(cell: CellStats) -> None:
    verdict = assess(one_cell(cell), DisclosureConfig(min_entities=1)).verdicts[0]
    assert verdict.status is Status.SUPPRESSED
    assert "invalid_value" in verdict.rules


def test_good_cells_pass_every_rule() -> None:
    cells = (
        count_cell(0, "count", 40),
        magnitude_cell(0, "sum_x", AggregateFn.SUM, [float(v) for v in range(1, 41)]),
        magnitude_cell(0, "mean_x", AggregateFn.MEAN, [float(v) for v in range(1, 41)]),
        order_cell(0, "median_x", AggregateFn.MEDIAN, [float(v) for v in range(1, 41)]),
    )
    table = CellTable(("g",), tuple(c.column for c in cells), (("a",),), cells)
    result = assess(table, DisclosureConfig())
    assert result.suppressed == frozenset()
    assert set(result.rule_counts().values()) == {0}


def test_inconsistent_statistics_suppress() -> None:
    # A sum larger than all absolute contributions together, a side larger than the cell.
    too_big = CellStats(0, "sum_x", AggregateFn.SUM, 5000.0, 40, top=(10.0,) * 10, total=400.0)
    assert cell_hit(too_big, "dominance_nk") and cell_hit(too_big, "p_percent")
    sides = CellStats(0, "max_x", AggregateFn.MAX, 5.0, 20, at_or_below=20, at_or_above=25)
    assert cell_hit(sides, "order_statistic")
