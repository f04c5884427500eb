"""Secondary suppression: every primary cell's LP interval is wide enough after protect()."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.secondary import audit, protect, protection_range
from tests.anonymiser.secondary_tables import attacker_interval, table_with_margins

CONFIG = DisclosureConfig(min_entities=5, protection_percent=10.0)


@st.composite
def tables_and_primaries(draw: st.DrawFn) -> tuple[CellTable, frozenset[tuple[int, str]]]:
    dims = draw(st.sampled_from([2, 3]))
    shape = tuple(draw(st.integers(2, 4 if dims == 2 else 3)) for _ in range(dims))
    size = int(np.prod(shape))
    values = draw(st.lists(st.integers(0, 40), min_size=size, max_size=size))
    table = table_with_margins(np.array(values, dtype=np.int64).reshape(shape))
    picks = draw(st.lists(st.integers(0, len(table) - 1), min_size=1, max_size=4))
    return table, frozenset((i, "v") for i in picks)


def _check_protected(
    table: CellTable,
    primary: frozenset[tuple[int, str]],
    config: DisclosureConfig,
    nonnegative: bool = True,
    prior: dict[tuple[tuple[object, ...], str], float] | None = None,
) -> None:
    result = protect(table, primary, config, prior)
    assert result.passed
    assert not result.complementary & result.primary
    by_key = {c.key: c for c in table}
    for cell in primary:
        v = float(by_key[cell].value or 0)
        p = protection_range(v, by_key[cell].fn, config)
        lo, hi = attacker_interval(table, set(result.suppressed), cell, nonnegative, prior)
        assert hi >= v + p - 1e-6
        assert lo <= max(v - p, 0.0 if nonnegative else -math.inf) + 1e-6


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables_and_primaries())
def test_every_primary_cell_is_protected(
    case: tuple[CellTable, frozenset[tuple[int, str]]],
) -> None:
    table, primary = case
    _check_protected(table, primary, CONFIG)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables_and_primaries())
def test_audit_matches_an_independent_lp(
    case: tuple[CellTable, frozenset[tuple[int, str]]],
) -> None:
    table, primary = case
    # Any pattern, protected or not: the exact audit is the attacker's LP.
    for iv in audit(table, primary, CONFIG):
        lo, hi = attacker_interval(table, set(primary), iv.cell)
        assert iv.exact
        assert iv.lo == pytest.approx(lo, abs=1e-6)
        assert iv.hi == pytest.approx(hi, abs=1e-6) or (math.isinf(hi) and math.isinf(iv.hi))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(2, 4),
    st.integers(2, 4),
    st.data(),
)
def test_negative_sums_are_protected_without_a_floor(
    rows: int, cols: int, data: st.DataObject
) -> None:
    values = data.draw(st.lists(st.integers(-50, 50), min_size=rows * cols, max_size=rows * cols))
    interior = np.array(values, dtype=np.float64).reshape(rows, cols)
    interior[0, 0] = -7.0
    table = table_with_margins(interior, fn=AggregateFn.SUM)
    picks = data.draw(st.lists(st.integers(0, len(table) - 1), min_size=1, max_size=3))
    _check_protected(table, frozenset((i, "v") for i in picks), CONFIG, nonnegative=False)


def test_protection_range_definition() -> None:
    cfg = DisclosureConfig(min_entities=10, protection_percent=20.0)
    assert protection_range(3, AggregateFn.COUNT, cfg) == 10
    assert protection_range(200, AggregateFn.COUNT, cfg) == 40
    assert protection_range(-50.0, AggregateFn.SUM, cfg) == 10
    assert protection_range(0.0, AggregateFn.SUM, cfg) == 1.0


def test_result_reports_timing_and_intervals() -> None:
    table = table_with_margins(np.array([[20, 3], [15, 30]]))
    result = protect(table, frozenset({(1, "v")}), CONFIG)
    assert result.passed and result.choose_seconds >= 0 and result.audit_seconds >= 0
    (iv,) = result.intervals
    assert iv.cell == (1, "v") and iv.protected
    assert iv.lo <= iv.lower_target and iv.hi >= iv.upper_target
    assert result.suppressed == result.primary | result.complementary


# Edge cases -----------------------------------------------------------------------------------


def test_empty_table() -> None:
    table = CellTable(("g",), ("v",), ())
    result = protect(table, frozenset(), CONFIG)
    assert result.passed and result.complementary == frozenset() and result.intervals == ()


def test_one_cell() -> None:
    table = CellTable(("g",), ("v",), (("a",),), (CellStats(0, "v", AggregateFn.COUNT, 3, 3),))
    result = protect(table, frozenset({(0, "v")}), CONFIG)
    assert result.passed and result.complementary == frozenset()
    (iv,) = result.intervals
    assert iv.protected and iv.lo == 0 and iv.hi >= 8
    (exact,) = audit(table, result.suppressed, CONFIG)
    assert exact.exact and exact.lo == 0 and math.isinf(exact.hi)


def test_all_cells_primary() -> None:
    table = table_with_margins(np.array([[1, 2], [3, 4]]))
    every = frozenset(c.key for c in table)
    result = protect(table, every, CONFIG)
    assert result.passed and result.complementary == frozenset()


def test_no_margins_needs_nothing() -> None:
    table = table_with_margins(np.array([[1, 20], [30, 40]]), margins=[])
    result = protect(table, frozenset({(0, "v")}), CONFIG)
    assert result.passed and result.complementary == frozenset()


def test_zero_cells_can_be_primary_and_complements() -> None:
    table = table_with_margins(np.array([[0, 0, 12], [0, 25, 30], [14, 0, 0]]))
    _check_protected(table, frozenset({(0, "v"), (4, "v")}), CONFIG)


def test_margin_cell_as_primary() -> None:
    table = table_with_margins(np.array([[1, 2], [30, 40]]))
    row_margin = next(c.key for c in table if table.keys[c.row] == ("k0", TOTAL))
    _check_protected(table, frozenset({row_margin}), CONFIG)


def test_non_additive_columns_are_left_alone() -> None:
    keys = (("a",), ("b",), (TOTAL,))
    cells = tuple(CellStats(i, "m", AggregateFn.MEAN, v, 20) for i, v in enumerate([1, 2, 1.5]))
    table = CellTable(("g",), ("m",), keys, cells)
    result = protect(table, frozenset({(0, "m")}), CONFIG)
    assert result.passed and result.complementary == frozenset() and result.intervals == ()


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_value_suppresses_the_column(bad: float) -> None:
    keys = (("a",), ("b",), ("c",), (TOTAL,))
    cells = tuple(
        CellStats(i, "s", AggregateFn.SUM, v, 20) for i, v in enumerate([1.0, bad, 5.0, 9.0])
    )
    table = CellTable(("g",), ("s",), keys, cells)
    result = protect(table, frozenset({(0, "s")}), CONFIG)
    assert result.suppressed == frozenset(c.key for c in table)


def test_negative_count_suppresses_the_column() -> None:
    table = table_with_margins(np.array([[20, -3], [15, 30]]))
    result = protect(table, frozenset({(0, "v")}), CONFIG)
    assert result.suppressed == frozenset(c.key for c in table)


def test_duplicate_group_keys_suppress_the_column() -> None:
    keys = (("a",), ("a",), (TOTAL,))
    cells = tuple(CellStats(i, "v", AggregateFn.COUNT, v, v) for i, v in enumerate([3, 20, 23]))
    table = CellTable(("g",), ("v",), keys, cells)
    result = protect(table, frozenset({(0, "v")}), CONFIG)
    assert result.suppressed == frozenset(c.key for c in table)


def test_counts_and_sums_are_protected_separately() -> None:
    keys = (("a",), ("b",), ("c",), (TOTAL,))
    counts = [3, 20, 30, 53]
    sums = [300.0, 150.0, 420.0, 870.0]
    cells = tuple(CellStats(i, "n", AggregateFn.COUNT, v, v) for i, v in enumerate(counts))
    cells += tuple(CellStats(i, "s", AggregateFn.SUM, v, 20) for i, v in enumerate(sums))
    table = CellTable(("g",), ("n", "s"), keys, cells)
    result = protect(table, frozenset({(0, "n")}), CONFIG)
    assert result.passed
    assert {c[1] for c in result.complementary} == {"n"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.floats(0.1, 1e6, allow_subnormal=False), min_size=9, max_size=9), st.data())
def test_float_sums_with_rounded_margins(values: list[float], data: st.DataObject) -> None:
    # Margins of float sums carry rounding error: the audit must neither fail on it
    # (an infeasible LP) nor count on it.
    table = table_with_margins(np.array(values).reshape(3, 3), fn=AggregateFn.SUM)
    picks = data.draw(st.lists(st.integers(0, len(table) - 1), min_size=1, max_size=2))
    primary = frozenset((i, "v") for i in picks)
    result = protect(table, primary, CONFIG)
    assert result.passed
    by_key = {c.key: c for c in table}
    for cell in primary:
        v = float(by_key[cell].value or 0)
        p = protection_range(v, AggregateFn.SUM, CONFIG)
        lo, hi = attacker_interval(table, set(result.suppressed), cell)
        assert hi >= v + p - 1e-6 * (1 + v)
        assert lo <= max(v - p, 0.0) + 1e-6 * (1 + v)


@pytest.mark.parametrize("shape", [(12, 12), (6, 6, 6)])
def test_realistic_table_passes_an_independent_audit(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(7)
    interior = 1 + rng.poisson(rng.lognormal(2.5, 0.8, shape))
    table = table_with_margins(interior)
    cfg = DisclosureConfig(min_entities=10, protection_percent=10.0)
    primary = frozenset(c.key for c in table if c.entities < cfg.min_entities)
    assert len(primary) >= 10
    _check_protected(table, primary, cfg)
