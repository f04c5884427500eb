"""Attacks at library level: try to recover a planted individual from one released table.

Each test plants a person whose value an attacker wants, builds the table the
engine would compute, and checks that what is released does not give it away.
"""

from __future__ import annotations

import random

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import AggregateFn, DisclosureConfig, Status, assess
from tests.anonymiser.test_rules_core import table_from_frame

PLANTED = 123_456.0


def _people(n: int, region: str, seed: int = 1) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [
        {"person": f"{region}-{i}", "region": region, "amount": float(rng.randint(10, 100))}
        for i in range(n)
    ]


def test_a_person_alone_in_a_cell_is_not_released() -> None:
    rows = [*_people(40, "Noord"), {"person": "target", "region": "Zeeland", "amount": PLANTED}]
    df = pd.DataFrame(rows)
    aggs = {
        "count": (AggregateFn.COUNT, None),
        "sum_amount": (AggregateFn.SUM, "amount"),
        "mean_amount": (AggregateFn.MEAN, "amount"),
        "max_amount": (AggregateFn.MAX, "amount"),
    }
    table = table_from_frame(df, ["region"], "person", aggs)
    shown = assess(table, DisclosureConfig()).released_values()
    zeeland = table.keys.index(("Zeeland",))
    assert not any(row == zeeland for row, _ in shown)
    assert PLANTED not in shown.values()


def test_a_person_with_many_rows_counts_once() -> None:
    # Fifty rows of one person are one entity: no threshold is met by repetition.
    rows = [{"person": "target", "region": "Zeeland", "amount": 1.0}] * 50
    table = table_from_frame(
        pd.DataFrame(rows), ["region"], "person", {"n": (AggregateFn.COUNT_ROWS, None)}
    )
    assert assess(table, DisclosureConfig()).released_values() == {}


def test_one_big_contributor_among_many_is_not_revealed() -> None:
    rows = [*_people(30, "Noord"), {"person": "target", "region": "Noord", "amount": PLANTED}]
    df = pd.DataFrame(rows)
    aggs = {"sum_amount": (AggregateFn.SUM, "amount"), "mean_amount": (AggregateFn.MEAN, "amount")}
    result = assess(table_from_frame(df, ["region"], "person", aggs), DisclosureConfig())
    assert result.released_values() == {}
    assert {"dominance_nk", "p_percent"} <= set(result.verdicts[0].rules)


@settings(max_examples=80)
@given(
    st.lists(st.floats(0, 1000, allow_nan=False), min_size=10, max_size=40),
    st.floats(1, 100),
)
def test_no_released_sum_lets_the_runner_up_pin_the_largest(values: list[float], p: float) -> None:
    # The p% attack: the second-largest subtracts its own contribution from the total;
    # what remains must hide the largest by at least p% of it.
    df = pd.DataFrame({"person": range(len(values)), "g": "x", "v": values})
    table = table_from_frame(df, ["g"], "person", {"sum_v": (AggregateFn.SUM, "v")})
    result = assess(table, DisclosureConfig(p_percent=p, dominance_k=100, dominance_n=1))
    if result.released_values():
        largest, second = sorted(values, reverse=True)[:2]
        estimate = result.released_values()[(0, "sum_v")] - second
        assert estimate - largest >= p / 100 * largest * (1 - 1e-9)


def test_min_and_max_of_a_small_or_lopsided_group_are_not_released() -> None:
    small = _people(3, "Zeeland")
    lopsided = [*_people(50, "Noord"), {"person": "target", "region": "Noord", "amount": PLANTED}]
    df = pd.DataFrame(small + lopsided)
    aggs = {"min_amount": (AggregateFn.MIN, "amount"), "max_amount": (AggregateFn.MAX, "amount")}
    table = table_from_frame(df, ["region"], "person", aggs)
    shown = assess(table, DisclosureConfig()).released_values()
    assert PLANTED not in shown.values()
    assert not any(table.keys[row] == ("Zeeland",) for row, _ in shown)


def test_a_group_sharing_one_sensitive_category_is_not_released() -> None:
    rows = [{"person": f"n{i}", "region": "Noord", "diagnosis": "flu"} for i in range(25)] + [
        {"person": f"z{i}", "region": "Zuid", "diagnosis": d}
        for i, d in enumerate(["flu"] * 20 + ["hiv"] * 15)
    ]
    df = pd.DataFrame(rows)
    keys = [(r, d) for r in ("Noord", "Zuid") for d in ("flu", "hiv")]
    table = table_from_frame(
        df,
        ["region", "diagnosis"],
        "person",
        {"count": (AggregateFn.COUNT, None)},
        frozenset({"diagnosis"}),
        keys,
    )
    result = assess(table, DisclosureConfig(zeros_disclosive=True))
    noord = {r for r, k in enumerate(table.keys) if k[0] == "Noord"}
    assert all(row not in noord for row, _ in result.released_values())
    assert {v.row for v in result.verdicts if v.status is Status.RELEASED} == {2, 3}


def test_forged_statistics_cannot_sneak_a_value_out() -> None:
    # An engine bug reporting NaN contributions or a negative count must not release.
    from anonymiser import CellStats, CellTable

    cells = (
        CellStats(
            0, "sum_x", AggregateFn.SUM, PLANTED, 50, top=(float("nan"),) * 10, total=PLANTED
        ),
        CellStats(0, "count", AggregateFn.COUNT, -1, 50),
    )
    table = CellTable(("g",), ("sum_x", "count"), (("a",),), cells)
    assert assess(table, DisclosureConfig()).released_values() == {}
