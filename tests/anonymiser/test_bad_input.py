"""Bad input gets a defined verdict, never an exception that releases data; in doubt, suppress."""

from __future__ import annotations

import logging
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import (
    TOTAL,
    AggregateFn,
    CellStats,
    CellTable,
    DisclosureConfig,
    RuleResult,
    Status,
    analyst_report,
    assess,
    reviewer_report,
)
from anonymiser.rules import RULES, is_valid_cell

numbers = st.one_of(
    st.none(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)


@st.composite
def any_cell(draw: st.DrawFn, row: int = 0) -> CellStats:
    fn = draw(st.sampled_from(list(AggregateFn)))
    return CellStats(
        row,
        fn.value,
        fn,
        draw(numbers),  # type: ignore[arg-type]
        draw(st.integers(-5, 10**9)),
        top=tuple(draw(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=12))),
        total=draw(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))),
        at_or_below=draw(st.one_of(st.none(), st.integers(-5, 10**9))),
        at_or_above=draw(st.one_of(st.none(), st.integers(-5, 10**9))),
    )


@settings(max_examples=200)
@given(st.lists(any_cell(), min_size=1, max_size=8), st.integers(1, 100))
def test_malformed_cells_are_always_suppressed(cells: list[CellStats], threshold: int) -> None:
    cells = [
        CellStats(
            r, c.column, c.fn, c.value, c.entities, c.top, c.total, c.at_or_below, c.at_or_above
        )
        for r, c in enumerate(cells)
    ]
    columns = tuple(sorted({c.column for c in cells}))
    table = CellTable(("g",), columns, tuple((f"k{r}",) for r in range(len(cells))), tuple(cells))
    result = assess(table, DisclosureConfig(min_entities=threshold, rounding_base=5))
    shown = result.released_values()
    for cell in cells:
        if not is_valid_cell(cell):
            assert cell.key in result.suppressed
            assert cell.key not in shown
        if cell.key in shown:
            value = shown[cell.key]
            assert isinstance(value, int | float) and math.isfinite(value)
            assert cell.entities >= threshold
    reviewer_report(result)
    analyst_report(result)


def test_empty_table() -> None:
    result = assess(CellTable(("g",), ("count",), ()), DisclosureConfig())
    assert result.verdicts == ()
    assert result.released_values() == {}
    assert reviewer_report(result)["suppressed"] == 0


def test_a_table_of_one_cell_and_no_group_columns() -> None:
    table = CellTable((), ("count",), ((),), (CellStats(0, "count", AggregateFn.COUNT, 12, 12),))
    assert assess(table, DisclosureConfig()).released_values() == {(0, "count"): 12}
    small = CellTable((), ("count",), ((),), (CellStats(0, "count", AggregateFn.COUNT, 2, 2),))
    assert assess(small, DisclosureConfig()).released_values() == {}


def test_huge_counts_and_many_groups() -> None:
    big = 10**15 + 3
    rows = 20_000
    cells = tuple(CellStats(r, "count", AggregateFn.COUNT, big, big) for r in range(rows))
    table = CellTable(("g",), ("count",), tuple((r,) for r in range(rows)), cells)
    result = assess(table, DisclosureConfig(rounding_base=10))
    shown = result.released_values()
    assert len(shown) == rows and shown[(0, "count")] == 10**15


def test_a_failing_rule_suppresses_everything(caplog: pytest.LogCaptureFixture) -> None:
    def broken(table: CellTable, config: DisclosureConfig) -> RuleResult:
        raise KeyError("Jansen")  # a data value in the message must not reach the log

    cells = (CellStats(0, "count", AggregateFn.COUNT, 50, 50),)
    table = CellTable(("g",), ("count",), (("a",),), cells)
    with caplog.at_level(logging.ERROR):
        result = assess(table, DisclosureConfig(), (*RULES, broken))
    assert result.released_values() == {}
    assert result.rule_counts()["broken"] == 1
    assert "Jansen" not in caplog.text and "broken" in caplog.text


def test_secondary_suppression_is_added_and_recomputes_release() -> None:
    keys = (("a",), ("b",), (TOTAL,))
    cells = tuple(CellStats(r, "count", AggregateFn.COUNT, n, n) for r, n in enumerate((3, 40, 43)))
    table = CellTable(("g",), ("count",), keys, cells)
    first = assess(table, DisclosureConfig(rounding_base=5))
    assert first.primary == {(0, "count")}
    second = first.with_secondary({(1, "count")})
    assert second.primary == first.primary
    assert second.suppressed == {(0, "count"), (1, "count")}
    assert second.released_values() == {(2, "count"): 45}
    assert [v.rules for v in second.verdicts][1] == ("secondary",)
    assert second.rule_counts()["secondary"] == 1
    with pytest.raises(ValueError, match="outside the table"):
        first.with_secondary({(7, "count")})


def test_a_value_of_the_wrong_type_is_suppressed() -> None:
    cell = CellStats(0, "count", AggregateFn.COUNT, "12", 50)  # type: ignore[arg-type]
    table = CellTable(("g",), ("count",), (("a",),), (cell,))
    result = assess(table, DisclosureConfig(rounding_base=5))
    assert result.verdicts[0].status is Status.SUPPRESSED
    assert "invalid_value" in result.verdicts[0].rules
