"""The minimum-entities rule: no released cell stands on fewer than min_entities entities."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig, Status, assess

FNS = list(AggregateFn)


@st.composite
def cell_tables(draw: st.DrawFn) -> CellTable:
    rows = draw(st.integers(min_value=0, max_value=30))
    fns = draw(st.lists(st.sampled_from(FNS), min_size=1, max_size=len(FNS), unique=True))
    names = tuple(f.value for f in fns)
    cells = []
    for r in range(rows):
        entities = draw(st.integers(min_value=0, max_value=40))
        for fn in fns:
            # Column aggregates may stand on fewer entities than the group (nulls).
            n = (
                entities
                if fn in (AggregateFn.COUNT, AggregateFn.COUNT_ROWS)
                else draw(st.integers(0, entities))
            )
            value = draw(
                st.one_of(
                    st.none(),
                    st.integers(-(10**6), 10**6),
                    st.floats(allow_nan=False, allow_infinity=False),
                )
            )
            cells.append(CellStats(r, fn.value, fn, value, n))
    return CellTable(("g",), names, tuple((f"k{r}",) for r in range(rows)), tuple(cells))


@settings(max_examples=60)
@given(cell_tables(), st.integers(min_value=1, max_value=50))
def test_no_released_cell_below_threshold(table: CellTable, threshold: int) -> None:
    result = assess(table, DisclosureConfig(min_entities=threshold))
    by_key = {c.key: c for c in table}
    assert len(result.verdicts) == len(table)
    for verdict in result.verdicts:
        cell = by_key[(verdict.row, verdict.column)]
        if verdict.status is Status.RELEASED:
            assert cell.entities >= threshold
            assert verdict.rules == ()
        if cell.entities < threshold:
            # Other rules (dominance, order statistics, bad values) may suppress more.
            assert verdict.status is Status.SUPPRESSED
            assert "min_entities" in verdict.rules
    assert result.rule_counts()["min_entities"] == sum(1 for c in table if c.entities < threshold)


def test_boundary_is_inclusive() -> None:
    cells = (
        CellStats(0, "count", AggregateFn.COUNT, 10, 10),
        CellStats(1, "count", AggregateFn.COUNT, 9, 9),
        CellStats(2, "count", AggregateFn.COUNT, 0, 0),
    )
    table = CellTable(("region",), ("count",), (("a",), ("b",), ("c",)), cells)
    result = assess(table, DisclosureConfig())
    assert [v.status for v in result.verdicts] == [
        Status.RELEASED,
        Status.SUPPRESSED,
        Status.SUPPRESSED,
    ]
    assert result.rule_counts()["min_entities"] == 2
    assert sum(result.rule_counts().values()) == 2


def test_min_max_of_a_small_group_are_suppressed() -> None:
    cells = (
        CellStats(0, "max_amount", AggregateFn.MAX, 99_000.0, 1),
        CellStats(0, "min_amount", AggregateFn.MIN, 10.0, 1),
    )
    table = CellTable(("region",), ("max_amount", "min_amount"), (("Zeeland",),), cells)
    assert assess(table, DisclosureConfig()).suppressed_count == 2


@pytest.mark.parametrize(
    ("obligations", "expected"),
    [
        ({}, 10),
        ({"min_entities": 25}, 25),
        ({"min_entities": None}, 10),
        ({"min_entities": 5, "unknown": 1}, 5),
    ],
)
def test_config_from_obligations(obligations: dict[str, object], expected: int) -> None:
    assert DisclosureConfig.from_obligations(obligations).min_entities == expected


@pytest.mark.parametrize("bad", [{"min_entities": 0}, {"min_entities": -3}, {"dominance_k": 150}])
def test_config_refuses_unsafe_values(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DisclosureConfig.from_obligations(bad)


def test_config_is_frozen() -> None:
    config = DisclosureConfig()
    with pytest.raises(ValueError):
        config.min_entities = 1  # type: ignore[misc]


def test_table_refuses_cells_outside_it() -> None:
    with pytest.raises(ValueError):
        CellTable(("g",), ("count",), (("a",),), (CellStats(3, "count", AggregateFn.COUNT, 1, 1),))
