"""Differential privacy: noise of the right scale, honest epsilon accounting, unbounded out."""

from __future__ import annotations

import math
import statistics

import pytest
from pydantic import ValidationError

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig
from anonymiser.cells import TOTAL
from anonymiser.dp import RULE_NAME, apply_dp

F = AggregateFn


def table(
    columns: dict[str, tuple[AggregateFn, list[float | None]]],
    *,
    keys: list[tuple[object, ...]] | None = None,
    entities: int = 100,
    max_cells: int | None = 1,
) -> CellTable:
    rows = len(next(iter(columns.values()))[1])
    keys = keys or [(f"k{r}",) for r in range(rows)]
    cells = tuple(
        CellStats(r, name, fn, v, entities, dp_value=v)
        for name, (fn, values) in columns.items()
        for r, v in enumerate(values)
    )
    return CellTable(("g",), tuple(columns), tuple(keys), cells, max_cells_per_entity=max_cells)


def draws(t: CellTable, config: DisclosureConfig, key: tuple[int, str], n: int) -> list[float]:
    return [float(apply_dp(t, config).values[key]) for _ in range(n)]


def assert_std(values: list[float], scale: float) -> None:
    """Laplace(scale) has std scale*sqrt(2); the sample std over 2000 draws varies by about
    2.5% of it (kurtosis 6), so a 15% band is six sigma wide: it never flakes, yet a
    scale off by a factor sqrt(2) (epsilon not split, sensitivity wrong) fails it."""
    expected = scale * math.sqrt(2)
    assert abs(statistics.pstdev(values) - expected) <= 0.15 * expected


def test_count_noise_has_the_right_scale() -> None:
    config = DisclosureConfig(dp_epsilon=0.5, dp_max_groups=2)
    t = table({"n": (F.COUNT, [1000.0])})
    result = apply_dp(t, config)
    assert result.scales == {"n": pytest.approx(2 / 0.5)}
    values = draws(t, config, (0, "n"), 2000)
    assert all(float(v).is_integer() for v in values)  # discrete noise for counts
    assert abs(statistics.fmean(values) - 1000) <= 4 * 4 * math.sqrt(2) / math.sqrt(2000)
    assert_std(values, 4.0)


def test_sum_noise_scales_with_clip_and_groups() -> None:
    config = DisclosureConfig(dp_epsilon=1.0, dp_max_groups=3, dp_clip=10.0)
    t = table({"s": (F.SUM, [5000.0])})
    assert apply_dp(t, config).scales == {"s": pytest.approx(30.0)}
    assert_std(draws(t, config, (0, "s"), 2000), 30.0)


def test_epsilon_is_split_evenly_and_adds_up() -> None:
    config = DisclosureConfig(dp_epsilon=0.9, dp_clip=5.0)
    t = table(
        {
            "n": (F.COUNT, [100.0, 200.0]),
            "s": (F.SUM, [10.0, 20.0]),
            "r": (F.COUNT_ROWS, [300.0, 400.0]),
            "med": (F.MEDIAN, [1.0, 2.0]),
        }
    )
    result = apply_dp(t, config)
    assert set(result.epsilon_by_column) == {"n", "s", "r"}
    for column in ("n", "s", "r"):
        assert result.epsilon_by_column[column] == pytest.approx(0.3)
        assert result.epsilon_by_column[column] <= 0.3
    assert result.epsilon_spent <= 0.9
    assert result.epsilon_spent == pytest.approx(0.9)
    assert result.scales["n"] == pytest.approx(1 / 0.3)
    assert result.scales["s"] == pytest.approx(5 / 0.3)


def test_margins_multiply_the_sensitivity() -> None:
    # Detail rows plus a grand total: each entity sits in two grouping sets.
    config = DisclosureConfig(dp_epsilon=1.0)
    t = table({"n": (F.COUNT, [10.0, 20.0, 30.0])}, keys=[("a",), ("b",), (TOTAL,)])
    assert apply_dp(t, config).scales == {"n": pytest.approx(2.0)}


@pytest.mark.parametrize("fn", [F.MEDIAN, F.MIN, F.MAX, F.P90])
def test_order_statistics_are_not_released(fn: AggregateFn) -> None:
    t = table({"v": (fn, [1.0, 2.0])})
    result = apply_dp(t, DisclosureConfig(dp_epsilon=1.0, dp_clip=1.0))
    assert result.values == {}
    assert result.not_noised == {(0, "v"), (1, "v")}
    assert result.epsilon_spent == 0
    assert "order statistic" in result.reasons["v"]


@pytest.mark.parametrize("fn", [F.SUM, F.MEAN, F.COUNT_ROWS])
def test_unbounded_contributions_are_not_released(fn: AggregateFn) -> None:
    t = table({"v": (fn, [1.0]), "n": (F.COUNT, [50.0])})
    result = apply_dp(t, DisclosureConfig(dp_epsilon=1.0))
    assert result.not_noised == {(0, "v")}
    assert set(result.values) == {(0, "n")}
    assert result.epsilon_by_column == {"n": pytest.approx(1.0)}  # the whole epsilon for n
    assert "dp_clip" in result.reasons["v"]


def test_mean_is_noisy_sum_over_noisy_count() -> None:
    config = DisclosureConfig(dp_epsilon=2.0, dp_clip=10.0)
    t = table({"m": (F.MEAN, [4.0])}, entities=1000)
    result = apply_dp(t, config)
    assert result.scales["m"] == pytest.approx(10.0)  # sensitivity 10 at epsilon 1
    assert result.scales["m.count"] == pytest.approx(1.0)
    assert result.epsilon_spent == pytest.approx(2.0)
    values = draws(t, config, (0, "m"), 500)
    # noisy sum 4000 +- 14, noisy count 1000 +- 1.4: the mean stays near 4.
    assert all(-10.0 <= v <= 10.0 for v in values)
    assert abs(statistics.fmean(values) - 4.0) < 0.05


def test_mean_needs_every_entity_kept() -> None:
    config = DisclosureConfig(dp_epsilon=1.0, dp_clip=10.0, dp_max_groups=2)
    for max_cells in (3, None):
        t = table({"m": (F.MEAN, [4.0])}, max_cells=max_cells)
        result = apply_dp(t, config)
        assert result.not_noised == {(0, "m")}
        assert result.epsilon_spent == 0


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, -math.inf, 1e300])
def test_missing_or_broken_bounded_values_are_not_noised(bad: float | None) -> None:
    t = table({"n": (F.COUNT, [100.0, bad, 50.0])})
    result = apply_dp(t, DisclosureConfig(dp_epsilon=1.0))
    assert result.not_noised == {(1, "n")}
    assert set(result.values) == {(0, "n"), (2, "n")}


def test_counts_are_never_negative() -> None:
    t = table({"n": (F.COUNT, [0.0] * 200)})
    result = apply_dp(t, DisclosureConfig(dp_epsilon=0.1))
    assert all(v >= 0 for v in result.values.values())


def test_values_are_noisy() -> None:
    t = table({"n": (F.COUNT, [1000.0] * 50)})
    result = apply_dp(t, DisclosureConfig(dp_epsilon=0.5))
    assert len(set(result.values.values())) > 1


def test_rule_result_names_the_unnoised_cells() -> None:
    t = table({"n": (F.COUNT, [10.0]), "med": (F.MEDIAN, [3.0])})
    finding = apply_dp(t, DisclosureConfig(dp_epsilon=1.0)).rule_result()
    assert finding.rule == RULE_NAME
    assert finding.suppress == {(0, "med")}


def test_dp_off_is_refused() -> None:
    with pytest.raises(ValueError, match="dp_epsilon"):
        apply_dp(table({"n": (F.COUNT, [1.0])}), DisclosureConfig())


@pytest.mark.parametrize(
    "bad",
    [
        {"dp_epsilon": 0},
        {"dp_epsilon": -1},
        {"dp_epsilon": 11},
        {"dp_budget": 0},
        {"dp_clip": 0},
        {"dp_max_groups": 0},
    ],
)
def test_invalid_dp_config_is_rejected(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        DisclosureConfig.from_obligations(bad)


def test_empty_table() -> None:
    t = CellTable(("g",), ("n",), ())
    result = apply_dp(t, DisclosureConfig(dp_epsilon=1.0))
    assert result.values == {} and result.not_noised == frozenset()


def test_a_column_of_mixed_functions_is_not_noised() -> None:
    cells = (
        CellStats(0, "v", F.COUNT, 10, 10, dp_value=10.0),
        CellStats(1, "v", F.SUM, 10.0, 10, dp_value=10.0),
    )
    t = CellTable(("g",), ("v",), (("a",), ("b",)), cells)
    result = apply_dp(t, DisclosureConfig(dp_epsilon=1.0, dp_clip=1.0))
    assert result.not_noised == {(0, "v"), (1, "v")} and result.epsilon_spent == 0
