"""The privacy budget ledger: spending adds up; a query past the budget is refused, stating
what is left."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig
from anonymiser.dp import BudgetExhausted, Charge, PrivacyLedger, apply_dp


def test_charges_add_up_and_remaining_shrinks() -> None:
    ledger = PrivacyLedger(budget=1.0)
    for i in range(10):
        ledger = ledger.charge(f"q{i}", 0.1)
    assert ledger.spent == pytest.approx(1.0)
    assert ledger.remaining == pytest.approx(0.0)
    assert [c.query_id for c in ledger.charges] == [f"q{i}" for i in range(10)]


def test_query_past_the_budget_is_refused_with_the_remaining_budget() -> None:
    ledger = PrivacyLedger(budget=1.0).charge("q1", 0.75)
    with pytest.raises(BudgetExhausted, match=r"remaining 0\.25 of 1") as info:
        ledger.charge("q2", 0.5)
    assert info.value.remaining == pytest.approx(0.25)
    assert info.value.requested == 0.5
    # The refused query spent nothing; a smaller one still fits.
    assert ledger.remaining == pytest.approx(0.25)
    assert ledger.charge("q3", 0.25).remaining == pytest.approx(0.0)


def test_check_before_running_a_query() -> None:
    ledger = PrivacyLedger(budget=0.5)
    assert ledger.can_charge(0.5) and not ledger.can_charge(0.6)
    ledger.check(0.5)
    with pytest.raises(BudgetExhausted, match=r"remaining 0\.5 of 0\.5"):
        ledger.check(0.6)


def test_ledger_is_pure() -> None:
    ledger = PrivacyLedger(budget=2.0)
    after = ledger.charge("q", 1.0)
    assert ledger.spent == 0 and after.spent == 1.0


@pytest.mark.parametrize("epsilon", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_epsilon_is_rejected(epsilon: float) -> None:
    with pytest.raises(ValueError, match="epsilon"):
        PrivacyLedger(budget=1.0).charge("q", epsilon)


def test_a_query_is_charged_once() -> None:
    ledger = PrivacyLedger(budget=1.0).charge("q", 0.1)
    with pytest.raises(ValueError, match="charged already"):
        ledger.charge("q", 0.1)


@pytest.mark.parametrize("budget", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_budget_is_rejected(budget: float) -> None:
    with pytest.raises(ValueError, match="budget"):
        PrivacyLedger(budget=budget)


@given(st.lists(st.floats(min_value=0.001, max_value=1.0), max_size=30), st.floats(0.1, 10.0))
def test_json_round_trip_and_never_overspent(epsilons: list[float], budget: float) -> None:
    ledger = PrivacyLedger(budget)
    for i, eps in enumerate(epsilons):
        try:
            ledger = ledger.charge(f"q{i}", eps)
        except BudgetExhausted as exc:
            assert eps > exc.remaining
    assert ledger.spent <= budget + 1e-9
    assert PrivacyLedger.from_json(ledger.to_json()) == ledger


@pytest.mark.parametrize(
    "text",
    [
        "",
        "[]",
        "{}",
        json.dumps({"version": 2, "budget": 1, "charges": []}),
        json.dumps({"version": 1, "budget": 1, "charges": [{"query_id": "q"}]}),
        json.dumps({"version": 1, "budget": 1, "charges": [{"query_id": "q", "epsilon": -1}]}),
        json.dumps({"version": 1, "budget": 1, "charges": [{"query_id": "q", "epsilon": "x"}]}),
    ],
)
def test_malformed_json_is_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        PrivacyLedger.from_json(text)


def test_a_lowered_budget_leaves_nothing_to_spend() -> None:
    # The policy may lower dp_budget after queries ran: the history stays, nothing is left.
    ledger = PrivacyLedger(1.0, (Charge("a", 0.6), Charge("b", 0.6)))
    assert ledger.remaining == 0.0
    with pytest.raises(BudgetExhausted, match="remaining 0 of 1"):
        ledger.charge("c", 0.01)


def test_queries_spend_the_budget_until_refused() -> None:
    config = DisclosureConfig(dp_epsilon=0.3, dp_budget=1.0, dp_clip=5.0)
    table = CellTable(
        ("g",),
        ("n", "s"),
        (("a",),),
        (
            CellStats(0, "n", AggregateFn.COUNT, 40, 40, dp_value=40),
            CellStats(0, "s", AggregateFn.SUM, 80.0, 40, dp_value=80.0),
        ),
    )
    assert config.dp_budget is not None
    ledger = PrivacyLedger(config.dp_budget)
    for query in ("q1", "q2", "q3"):
        ledger.check(config.dp_epsilon or 0)
        ledger = ledger.charge(query, apply_dp(table, config).epsilon_spent)
    assert ledger.spent == pytest.approx(0.9)
    with pytest.raises(BudgetExhausted, match=r"remaining 0\.1 of 1"):
        ledger.check(0.3)
