"""The fast audit path (bound propagation, witness rounds) against an independent LP per bound."""

from __future__ import annotations

import math

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anonymiser.cells import AggregateFn, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.secondary import audit
from anonymiser.secondary import lp as lp_module
from anonymiser.secondary.audit import audit_column, targets, too_narrow
from anonymiser.secondary.lp import AttackerLP
from anonymiser.secondary.propagate import implied_bounds
from anonymiser.secondary.structure import BoolArray, ColumnStructure, build_column
from tests.anonymiser.secondary_tables import attacker_interval, table_with_margins

CONFIG = DisclosureConfig(min_entities=5, protection_percent=10.0)
Pattern = tuple[CellTable, frozenset[tuple[int, str]], bool]


@st.composite
def patterns(draw: st.DrawFn, allow_signed: bool = True) -> Pattern:
    """A count or signed-sum table with margins and any suppression pattern."""
    dims = draw(st.sampled_from([2, 3]))
    shape = tuple(draw(st.integers(2, 5 if dims == 2 else 3)) for _ in range(dims))
    size = int(np.prod(shape))
    signed = allow_signed and draw(st.booleans())
    low = -20 if signed else 0
    values = draw(st.lists(st.integers(low, 30), min_size=size, max_size=size))
    interior = np.array(values, dtype=np.int64).reshape(shape)
    fn = AggregateFn.SUM if signed else AggregateFn.COUNT
    table = table_with_margins(interior, fn=fn)
    hidden = draw(st.lists(st.booleans(), min_size=len(table), max_size=len(table)))
    if not any(hidden):
        hidden[0] = True
    nonnegative = bool(np.all(interior >= 0))
    return table, frozenset((i, "v") for i, h in enumerate(hidden) if h), nonnegative


def _model(
    table: CellTable, suppressed: frozenset[tuple[int, str]]
) -> tuple[ColumnStructure, BoolArray, AttackerLP]:
    structure = build_column(table, "v")
    mask = np.array([c in suppressed for c in structure.cells], dtype=bool)
    return structure, mask, AttackerLP(structure, mask)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns())
def test_implied_bounds_contain_the_lp_interval(case: Pattern) -> None:
    table, suppressed, nonnegative = case
    structure, _, model = _model(table, suppressed)
    lo, hi = implied_bounds(
        *model.entries,
        model.row_lower,
        model.row_upper,
        model.base_lower,
        model.base_upper,
    )
    for var, node in enumerate(model.nodes):
        cell = structure.cells[int(node)]
        assert cell is not None
        ref_lo, ref_hi = attacker_interval(table, set(suppressed), cell, nonnegative)
        assert lo[var] <= ref_lo + 1e-6
        assert hi[var] >= ref_hi - 1e-6


@pytest.mark.parametrize("columns_per_row", [0, 10**9], ids=["simplex", "ipm"])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Counts only: the reference bounds free (signed) cells by a finite box, so it
# cannot tell an unbounded interval from a wide one.
@given(case=patterns(allow_signed=False))
def test_witness_audit_matches_an_independent_lp(columns_per_row: int, case: Pattern) -> None:
    table, suppressed, nonnegative = case
    # Both round solvers, whatever the shape would pick.
    old = lp_module._SIMPLEX_COLUMNS_PER_ROW
    lp_module._SIMPLEX_COLUMNS_PER_ROW = columns_per_row
    try:
        ivs = audit(table, suppressed, CONFIG, exact=False)
    finally:
        lp_module._SIMPLEX_COLUMNS_PER_ROW = old
    for iv in ivs:
        ref_lo, ref_hi = attacker_interval(table, set(suppressed), iv.cell, nonnegative)
        # What the audit calls reachable is reachable ...
        assert iv.lo >= ref_lo - 1e-6
        assert iv.hi <= ref_hi + 1e-6 or math.isinf(ref_hi)
        # ... and with the exact solves for the rest, the verdict is the LP's.
        wide = ref_hi >= iv.upper_target - 1e-6 and ref_lo <= iv.lower_target + 1e-6
        assert iv.protected == wide


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns())
def test_witnesses_alone_never_pass_a_narrow_cell(case: Pattern) -> None:
    table, suppressed, nonnegative = case
    structure, mask, _ = _model(table, suppressed)
    nodes = np.flatnonzero(mask).astype(np.int64)
    # No exact solve at all: what passes, passes on witnesses only.
    for iv in audit_column(structure, mask, nodes, CONFIG, exact=False, max_solves=0):
        if iv.protected:
            ref_lo, ref_hi = attacker_interval(table, set(suppressed), iv.cell, nonnegative)
            assert ref_hi >= iv.upper_target - 1e-6
            assert ref_lo <= iv.lower_target + 1e-6


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patterns())
def test_cells_too_narrow_by_propagation_are_too_narrow_by_the_lp(case: Pattern) -> None:
    table, suppressed, nonnegative = case
    structure, mask, _ = _model(table, suppressed)
    nodes = np.flatnonzero(mask).astype(np.int64)
    narrow = too_narrow(structure, mask, nodes, CONFIG)
    lower, upper = targets(structure, narrow, CONFIG)
    for node, lo_goal, hi_goal in zip(narrow, lower, upper, strict=True):
        cell = structure.cells[int(node)]
        assert cell is not None
        ref_lo, ref_hi = attacker_interval(table, set(suppressed), cell, nonnegative)
        assert ref_hi < hi_goal or ref_lo > lo_goal


def test_a_narrow_cycle_is_rejected_and_its_goal_never_chased() -> None:
    # Suppressing a 2x2 block of small cells: the planted 3 moves only within [1, 7].
    table = table_with_margins(np.array([[3, 4, 30], [5, 2, 40], [30, 30, 30]]))
    block = frozenset((r * 3 + c, "v") for r in range(2) for c in range(2))
    cell = (0, "v")
    assert attacker_interval(table, set(block), cell) == (1.0, 7.0)
    cfg = DisclosureConfig(min_entities=10, protection_percent=10.0)
    for exact in (True, False):
        (iv, *_) = audit(table, block, cfg, primary=frozenset({cell}), exact=exact)
        assert not iv.protected and iv.lo == pytest.approx(1) and iv.hi == pytest.approx(7)
    structure, mask, model = _model(table, block)
    node = np.array([0], dtype=np.int64)
    lower, upper = targets(structure, node, cfg)
    beyond_up, beyond_down = model.unreachable(model.var_of[node], lower, upper)
    # Row 0 holds 7 between its two hidden cells: 13 is out of reach without an LP.
    assert beyond_up.tolist() == [True] and beyond_down.tolist() == [True]
    (iv,) = audit_column(structure, mask, node, cfg, exact=False, max_solves=0)
    assert not iv.protected
    assert too_narrow(structure, mask, node, cfg).tolist() == [0]
    # Opening the whole table leaves room: nothing is too narrow on the rows alone.
    everything = np.ones(structure.n_nodes, dtype=bool)
    assert too_narrow(structure, everything, node, cfg).size == 0


def test_a_solver_that_never_finishes_passes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    table = table_with_margins(np.array([[3, 14, 30], [25, 12, 40], [30, 30, 30]]))
    everything = frozenset(c.key for c in table)
    cell = (0, "v")
    (wide,) = audit(table, everything, CONFIG, primary=frozenset({cell}), exact=False)
    assert wide.protected
    # Every solve runs out of time: no witness, no exact bound, so no movement proven.
    monkeypatch.setattr(AttackerLP, "_solve", lambda self: highspy.HighsModelStatus.kTimeLimit)
    for exact in (True, False):
        (iv,) = audit(table, everything, CONFIG, primary=frozenset({cell}), exact=exact)
        assert not iv.protected and iv.lo == iv.hi == 3
