"""The attacker's linear program: how far a suppressed cell can move, given all that is public.

Variables are the suppressed nodes of one column; released and prior cells are
constants. Each margin relation with a suppressed member becomes a row. Bounds:
cells >= 0 when every value of the column is non-negative (always for counts),
else free. HiGHS solves it; one model per pattern, objectives and bounds
swapped in place. Presolve stays off: on these LPs it costs more than the
solve it saves, every time the objective changes.
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass

import highspy
import numpy as np

from anonymiser.secondary.propagate import implied_bounds
from anonymiser.secondary.structure import BoolArray, ColumnStructure, FloatArray, IntArray

__all__ = ["AttackerLP", "AttackerRows", "Bounds"]

INF = float("inf")
_OPTIMAL = highspy.HighsModelStatus.kOptimal
_UNBOUNDED = highspy.HighsModelStatus.kUnbounded
_SETTLED = (_OPTIMAL, _UNBOUNDED, highspy.HighsModelStatus.kInfeasible)
# HiGHS keeps a global pool of worker threads; stop it before the interpreter
# tears down, or a worker can touch freed memory while the process exits.
atexit.register(highspy.Highs.resetGlobalScheduler, True)

# Witness rounds before the remaining cells get one exact solve each.
_MAX_ROUNDS = 12
# Witness rounds use the dual simplex on LPs with many columns per row (2-D
# tables: few margins, many cells), where it is several times faster than the
# interior point method; on the others (3-D tables) it stalls on degenerate
# pivots and the interior point method (with crossover to a vertex) wins.
_SIMPLEX_COLUMNS_PER_ROW = 8


@dataclass
class Bounds:
    """What the audit proved per target node: reachable ``lo``/``hi`` and whether each is exact."""

    lo: FloatArray
    hi: FloatArray
    lo_exact: BoolArray
    hi_exact: BoolArray


class AttackerRows:
    """The attacker's constraints on a column under a suppression pattern, without a solver."""

    def __init__(self, st: ColumnStructure, suppressed: BoolArray) -> None:
        """Build rows from the relations with at least one suppressed member."""
        self.st = st
        self.nodes: IntArray = np.flatnonzero(suppressed).astype(np.int64)
        var_of = np.full(st.n_nodes, -1, dtype=np.int64)
        var_of[self.nodes] = np.arange(self.nodes.size)
        self.var_of = var_of
        rel_of = np.repeat(np.arange(st.n_relations), np.diff(st.rel_ptr))
        is_var = suppressed[st.rel_node]
        contrib = st.rel_coef * st.value[st.rel_node]
        published = np.bincount(rel_of[~is_var], weights=contrib[~is_var], minlength=st.n_relations)
        n_var_in_rel = np.bincount(rel_of[is_var], minlength=st.n_relations)
        rows = np.flatnonzero(n_var_in_rel > 0)
        row_id = np.full(st.n_relations, -1, dtype=np.int64)
        row_id[rows] = np.arange(rows.size)
        rhs = -published[rows]
        tol = st.rel_tol[rows]
        self.row_lower = rhs - tol
        self.row_upper = np.where(st.exact[rows], rhs + tol, INF)
        # COO entries (row, variable, coefficient).
        self.entries = (row_id[rel_of[is_var]], var_of[st.rel_node[is_var]], st.rel_coef[is_var])
        n = int(self.nodes.size)
        self.base_lower = np.zeros(n) if st.nonnegative else np.full(n, -INF)
        self.base_upper = np.full(n, INF)

    def unreachable(
        self, cols: IntArray, lower: FloatArray, upper: FloatArray
    ) -> tuple[BoolArray, BoolArray]:
        """Which upper and lower goals lie beyond bounds the rows imply (see :mod:`.propagate`)."""
        lo, hi = implied_bounds(
            *self.entries, self.row_lower, self.row_upper, self.base_lower, self.base_upper
        )
        # Only a clear miss counts, so rounding in the propagation never stops a witness round.
        tol_up = 1e-6 * (1.0 + np.abs(upper))
        tol_down = 1e-6 * (1.0 + np.abs(lower))
        return hi[cols] < upper - tol_up, lo[cols] > lower + tol_down


class AttackerLP(AttackerRows):
    """One HiGHS model of a column under a suppression pattern."""

    def __init__(self, st: ColumnStructure, suppressed: BoolArray) -> None:
        """Pass the rows to HiGHS."""
        super().__init__(st, suppressed)
        e_row, e_col, e_val = self.entries
        n = int(self.nodes.size)
        n_rows = int(self.row_lower.size)
        order = np.lexsort((e_col, e_row))
        lp = highspy.HighsLp()
        lp.num_col_ = n
        lp.num_row_ = n_rows
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = self.base_lower.copy()
        lp.col_upper_ = self.base_upper.copy()
        lp.row_lower_ = self.row_lower
        lp.row_upper_ = self.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.concatenate(
            [[0], np.cumsum(np.bincount(e_row, minlength=n_rows))]
        ).astype(np.int32)
        lp.a_matrix_.index_ = e_col[order].astype(np.int32)
        lp.a_matrix_.value_ = e_val[order].astype(np.float64)
        self.h = highspy.Highs()  # type: ignore[no-untyped-call]
        self.h.setOptionValue("output_flag", False)
        self.h.setOptionValue("presolve", "off")
        self.h.passModel(lp)
        self._cost = np.zeros(n)
        self._round_solver = "simplex" if n >= _SIMPLEX_COLUMNS_PER_ROW * n_rows else "ipm"

    def _set_objective(self, cost: FloatArray, maximise: bool) -> None:
        changed = np.flatnonzero(cost != self._cost).astype(np.int32)
        if changed.size:
            self.h.changeColsCost(changed.size, changed, cost[changed])
            self._cost = cost.copy()
        sense = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
        self.h.changeObjectiveSense(sense)

    def _set_bounds(self, cols: IntArray, lower: FloatArray, upper: FloatArray) -> None:
        if cols.size:
            self.h.changeColsBounds(cols.size, cols.astype(np.int32), lower, upper)

    def _solve(self) -> highspy.HighsModelStatus:
        self.h.run()
        status = self.h.getModelStatus()
        if status not in _SETTLED:
            # Numerical trouble, e.g. from the basis an earlier solve left: start
            # afresh, this once with presolve.
            self.h.clearSolver()
            self.h.setOptionValue("presolve", "on")
            self.h.run()
            status = self.h.getModelStatus()
            self.h.setOptionValue("presolve", "off")
        return status

    def bounds(
        self,
        targets: IntArray,
        lower: FloatArray,
        upper: FloatArray,
        exact: bool,
        max_solves: int | None = None,
    ) -> Bounds:
        """Prove, per target node, ``lo <= lower`` and ``hi >= upper`` where the LP allows it.

        ``exact`` minimises and maximises each target on its own. Otherwise each
        round pushes all unproven targets at once towards their goal (capped at
        it) and every feasible point it finds is a witness; goals beyond the
        bounds the rows imply skip the rounds. Only the goals no round reaches
        get their own exact solve, at most ``max_solves`` of them (None: no
        limit). A bound not established is the cell's own value (no movement
        proven): fail closed.
        """
        v = self.st.value[targets]
        out = Bounds(v.copy(), v.copy(), np.zeros(v.size, bool), np.zeros(v.size, bool))
        cols = self.var_of[targets]
        if targets.size == 0:
            return out
        if np.any(cols < 0):
            raise ValueError("audit target not suppressed")
        if not exact:
            up_open, down_open = self._witness(cols, lower, upper, out)
        else:
            up_open = down_open = np.ones(v.size, bool)
        jobs = [(int(k), True) for k in np.flatnonzero(up_open)]
        jobs += [(int(k), False) for k in np.flatnonzero(down_open)]
        for k, maximise in jobs[:max_solves]:
            self._exact(int(cols[k]), k, out, maximise)
        return out

    def _witness(
        self, cols: IntArray, lower: FloatArray, upper: FloatArray, out: Bounds
    ) -> tuple[BoolArray, BoolArray]:
        """Rounds of one LP each; returns which upper and lower goals are still unproven.

        Goals the rows put out of reach are left out from the start: chasing them
        only takes resources from the others in every round, and ends in a round
        that proves nothing. Each round gives every other unproven target a
        direction (random when both sides are open, so that neighbours in a margin
        can trade: one up, one down) and maximises the signed sum, each target
        capped at its goal.
        """
        beyond_up, beyond_down = self.unreachable(cols, lower, upper)
        up = ~beyond_up
        down = ~beyond_down
        tol_up = 1e-7 * (1.0 + np.abs(upper))
        tol_down = 1e-7 * (1.0 + np.abs(lower))
        # Fixed seed: the same table gets the same pattern and audit every time.
        rng = np.random.default_rng(0)
        # The single-target exact solves keep HiGHS's default (the simplex).
        self.h.setOptionValue("solver", self._round_solver)
        try:
            stalled = 0
            for _ in range(_MAX_ROUNDS):
                live = up | down
                if not live.any() or stalled >= 1:
                    break
                sign = np.where(
                    up & down, rng.choice([-1.0, 1.0], cols.size), np.where(up, 1.0, -1.0)
                )
                idx = np.flatnonzero(live)
                c = cols[idx]
                cost = np.zeros(self.nodes.size)
                cost[c] = sign[idx]
                self._set_objective(cost, maximise=True)
                lo = np.where(sign[idx] < 0, lower[idx], self.base_lower[c])
                hi = np.where(sign[idx] > 0, upper[idx], self.base_upper[c])
                self._set_bounds(c, lo, hi)
                # A cold start: the last round's basis is far from this round's optimum.
                self.h.clearSolver()
                status = self._solve()
                self._set_bounds(c, self.base_lower[c], self.base_upper[c])
                if status != _OPTIMAL:
                    break
                x = np.asarray(self.h.getSolution().col_value)[cols]
                np.maximum(out.hi, x, out=out.hi)
                np.minimum(out.lo, x, out=out.lo)
                done_up = up & (x >= upper - tol_up)
                done_down = down & (x <= lower + tol_down)
                stalled = 0 if (done_up.any() or done_down.any()) else stalled + 1
                up &= ~done_up
                down &= ~done_down
        finally:
            self.h.setOptionValue("solver", "choose")
        return up | beyond_up, down | beyond_down

    def _exact(self, col: int, k: int, out: Bounds, maximise: bool) -> None:
        cost = np.zeros(self.nodes.size)
        cost[col] = 1.0
        self._set_objective(cost, maximise)
        status = self._solve()
        if status == _OPTIMAL:
            x = float(np.asarray(self.h.getSolution().col_value)[col])
            if maximise:
                out.hi[k], out.hi_exact[k] = max(x, out.hi[k]), True
            else:
                out.lo[k], out.lo_exact[k] = min(x, out.lo[k]), True
        elif status == _UNBOUNDED:
            if maximise:
                out.hi[k], out.hi_exact[k] = INF, True
            else:
                out.lo[k], out.lo_exact[k] = -INF, True
        # Anything else (infeasible, time limit): keep the proven bound only.
