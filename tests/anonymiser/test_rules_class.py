"""Class disclosure: a group whose entities all share one sensitive category is flagged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import TOTAL, AggregateFn, CellStats, CellTable, DisclosureConfig, assess
from anonymiser.rules import class_disclosure


def _table(rows: list[tuple[tuple[object, ...], int]], sensitive: bool = True) -> CellTable:
    keys = tuple(k for k, _ in rows)
    cells = tuple(CellStats(r, "count", AggregateFn.COUNT, n, n) for r, (_, n) in enumerate(rows))
    groups = ("region", "diagnosis")
    return CellTable(groups, ("count",), keys, cells, frozenset({"diagnosis"} if sensitive else ()))


ROWS = [
    (("N", "flu"), 30),
    (("N", "hiv"), 0),
    (("S", "flu"), 20),
    (("S", "hiv"), 15),
    (("N", TOTAL), 30),
    (("S", TOTAL), 35),
]


def test_group_sharing_one_category_is_flagged() -> None:
    hits = class_disclosure(_table(ROWS), DisclosureConfig())
    assert hits.suppress == {(0, "count")}  # everyone in N has flu


def test_zeros_disclosive_also_flags_zero_cells_and_the_group_margin() -> None:
    hits = class_disclosure(_table(ROWS), DisclosureConfig(zeros_disclosive=True))
    assert hits.suppress == {(0, "count"), (1, "count"), (4, "count")}


def test_mixed_groups_and_non_sensitive_tables_are_not_flagged() -> None:
    assert class_disclosure(_table(ROWS[2:4]), DisclosureConfig()).suppress == frozenset()
    assert (
        class_disclosure(_table(ROWS, sensitive=False), DisclosureConfig()).suppress == frozenset()
    )
    off = DisclosureConfig(class_disclosure=False)
    assert class_disclosure(_table(ROWS), off).suppress == frozenset()


def test_a_one_value_domain_is_the_filter_not_a_disclosure() -> None:
    rows = [(("N", "flu"), 30), (("S", "flu"), 20)]
    assert class_disclosure(_table(rows), DisclosureConfig()).suppress == frozenset()


def test_table_grouped_by_the_sensitive_column_alone() -> None:
    keys = (("flu",), ("hiv",), ("covid",))
    cells = tuple(CellStats(r, "count", AggregateFn.COUNT, n, n) for r, n in enumerate((0, 25, 0)))
    table = CellTable(("diagnosis",), ("count",), keys, cells, frozenset({"diagnosis"}))
    assert class_disclosure(table, DisclosureConfig()).suppress == {(1, "count")}


def test_every_value_column_of_the_flagged_row_is_flagged() -> None:
    keys = (("N", "flu"), ("N", "hiv"))
    cells = (
        CellStats(0, "count", AggregateFn.COUNT, 30, 30),
        CellStats(0, "sum_x", AggregateFn.SUM, 300.0, 30, top=(10.0,) * 10, total=300.0),
        CellStats(1, "count", AggregateFn.COUNT, 0, 0),
        CellStats(1, "sum_x", AggregateFn.SUM, 0.0, 0, top=(), total=0.0),
    )
    table = CellTable(
        ("region", "diagnosis"), ("count", "sum_x"), keys, cells, frozenset({"diagnosis"})
    )
    result = assess(table, DisclosureConfig())
    assert result.rule_counts()["class_disclosure"] == 2
    assert result.released == frozenset()


def test_two_sensitive_columns_are_judged_each() -> None:
    keys = (("flu", "yes"), ("hiv", "yes"), ("flu", "no"))
    cells = tuple(CellStats(r, "count", AggregateFn.COUNT, n, n) for r, n in enumerate((20, 20, 0)))
    table = CellTable(
        ("diagnosis", "convicted"), ("count",), keys, cells, frozenset({"diagnosis", "convicted"})
    )
    # diagnosis flu: only "yes" non-empty -> everyone with flu is convicted.
    hits = class_disclosure(table, DisclosureConfig()).suppress
    assert (0, "count") in hits
    # hiv has one non-empty row as well (only "yes" was asked): flagged too.
    assert (1, "count") in hits


@settings(max_examples=100)
@given(
    st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=3), min_size=1, max_size=6),
    st.booleans(),
)
def test_no_row_of_a_one_category_group_is_released(counts: list[list[int]], zeros: bool) -> None:
    categories = ("flu", "hiv", "tb")
    rows = [
        ((f"r{g}", c), n)
        for g, group in enumerate(counts)
        for c, n in zip(categories, group, strict=True)
    ]
    result = assess(_table(rows), DisclosureConfig(zeros_disclosive=zeros))
    shown = result.released_values()
    for g, group in enumerate(counts):
        if sum(1 for n in group if n > 0) == 1:
            first_row = 3 * g
            assert not any(first_row <= row < first_row + 3 for row, _ in shown)
