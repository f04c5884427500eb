"""Base-b rounding: multiples of b, within b/2, deterministic, margins rounded on their own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import (
    TOTAL,
    AggregateFn,
    CellStats,
    CellTable,
    DisclosureConfig,
    assess,
    round_value,
)


@settings(max_examples=200)
@given(st.integers(0, 10**12), st.integers(1, 1000))
def test_rounded_counts_are_multiples_within_half_a_base(value: int, base: int) -> None:
    rounded = round_value(value, base)
    assert rounded % base == 0
    assert abs(rounded - value) <= base / 2
    assert round_value(value, base) == rounded  # deterministic
    assert round_value(float(value), base) == rounded or value > 2**52


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [(12, 5, 10), (13, 5, 15), (12.5, 5, 15), (10, 5, 10), (0, 5, 0), (7, 1, 7), (-12, 5, -10)],
)
def test_round_value_examples(value: float, base: int, expected: int) -> None:
    assert round_value(value, base) == expected


@pytest.mark.parametrize("bad", [(float("nan"), 5), (float("inf"), 5), (3, 0)])
def test_round_value_refuses_what_it_cannot_round(bad: tuple[float, int]) -> None:
    with pytest.raises(ValueError):
        round_value(*bad)


def _margin_table(parts: list[int]) -> CellTable:
    keys = (*((f"k{i}",) for i in range(len(parts))), (TOTAL,))
    values = [*parts, sum(parts)]
    cells = tuple(CellStats(r, "count", AggregateFn.COUNT, v, v) for r, v in enumerate(values))
    return CellTable(("g",), ("count",), keys, cells)


@settings(max_examples=100)
@given(st.lists(st.integers(10, 500), min_size=1, max_size=12), st.integers(2, 20))
def test_assessment_rounds_every_released_count_including_margins(
    parts: list[int], base: int
) -> None:
    table = _margin_table(parts)
    config = DisclosureConfig(rounding_base=base)
    result = assess(table, config)
    first = result.released_values()
    assert first == assess(table, config).released_values()  # same truth, same answer
    for cell in table:
        if cell.key not in first:
            assert result.verdicts[cell.row].rules == ("rounding",)
            continue
        shown = first[cell.key]
        assert isinstance(shown, int) and shown % base == 0
        assert abs(shown - cell.value) <= base / 2  # type: ignore[operator]
    # The margin is rounded from its own true value, never summed from rounded parts.
    margin = (len(parts), "count")
    if margin in first:
        assert first[margin] == round_value(sum(parts), base)


def _feasible_totals(shown: dict[tuple[int, str], float | int], n: int, base: int) -> set[int]:
    """Every true total an attacker cannot rule out from the released rounded values."""
    ranges = [
        range(
            max(0, int(shown[(r, "count")]) - base // 2), int(shown[(r, "count")]) + (base + 1) // 2
        )
        for r in range(n)
    ]
    low, high = sum(r.start for r in ranges), sum(r.stop - 1 for r in ranges)
    totals = set(range(low, high + 1))
    if (n, "count") in shown:
        own = shown[(n, "count")]
        totals &= {t for t in range(low, high + 1) if round_value(t, base) == own}
    return totals


@settings(max_examples=150)
@given(st.lists(st.integers(10, 20), min_size=1, max_size=8), st.integers(2, 6))
def test_a_released_total_is_never_pinned_below_the_base(parts: list[int], base: int) -> None:
    shown = assess(_margin_table(parts), DisclosureConfig(rounding_base=base)).released_values()
    totals = _feasible_totals(shown, len(parts), base)
    assert sum(parts) in totals
    assert len(totals) >= base


def test_the_classic_rounding_pin_is_caught() -> None:
    # Four parts of 12 round to 10 each (32..48), the total 48 rounds to 50 (48..52): 48 exactly.
    result = assess(_margin_table([12, 12, 12, 12]), DisclosureConfig(rounding_base=5))
    assert result.rule_counts()["rounding"] == 1
    assert (4, "count") not in result.released_values()
    fine = assess(_margin_table([12, 12, 12, 13]), DisclosureConfig(rounding_base=5))
    assert fine.released_values()[(4, "count")] == 50


def test_rounding_leaves_sums_and_suppressed_cells_alone() -> None:
    cells = (
        CellStats(0, "count", AggregateFn.COUNT, 23, 23),
        CellStats(0, "sum_x", AggregateFn.SUM, 23.0, 23, top=(1.0,) * 10, total=23.0),
        CellStats(1, "count", AggregateFn.COUNT, 3, 3),
    )
    table = CellTable(("g",), ("count", "sum_x"), (("a",), ("b",)), cells)
    result = assess(table, DisclosureConfig(rounding_base=5))
    assert result.released_values() == {(0, "count"): 25, (0, "sum_x"): 23.0}
    assert dict(result.rounded) == {(0, "count"): 25}


def test_no_rounding_by_default() -> None:
    table = _margin_table([11, 12])
    assert assess(table, DisclosureConfig()).released_values()[(0, "count")] == 11


def test_two_way_margins_are_audited_per_group_column() -> None:
    # Region x kind with both margins and a grand total; the "N" row margin is pinned.
    values = {
        ("N", "a"): 12, ("N", "b"): 12, ("N", "c"): 12, ("N", "d"): 12,
        ("Z", "a"): 30, ("Z", "b"): 31, ("Z", "c"): 33, ("Z", "d"): 35,
    }  # fmt: skip
    for region in ("N", "Z"):
        values[(region, TOTAL)] = sum(v for (r, _), v in values.items() if r == region)
    for kind in "abcd":
        values[(TOTAL, kind)] = values[("N", kind)] + values[("Z", kind)]
    values[(TOTAL, TOTAL)] = sum(v for (r, k), v in values.items() if r != TOTAL and k != TOTAL)
    keys = tuple(values)
    cells = tuple(
        CellStats(i, "count", AggregateFn.COUNT, v, v) for i, v in enumerate(values.values())
    )
    table = CellTable(("region", "kind"), ("count",), keys, cells)
    result = assess(table, DisclosureConfig(rounding_base=5))
    pinned = {keys[row] for row, _ in result.findings[-1].suppress}
    assert result.findings[-1].rule == "rounding"
    assert ("N", TOTAL) in pinned
    assert all(TOTAL in key for key in pinned)
