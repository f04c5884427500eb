"""Bound propagation: bounds that every feasible point of the attacker's LP obeys, without an LP.

A row ``lower <= sum(a[j] * x[j]) <= upper`` bounds each of its variables by
what the other members can contribute at least and at most, given their own
bounds (the activity argument of LP presolvers). Repeating this over all rows
tightens the bounds further. Every bound stays implied by the rows and the
variable bounds, so it holds for every table the attacker may consider: a
protection goal beyond it is out of reach. These bounds are used one way only:
a goal beyond them marks its cell as failing, so it gets more suppression
before any LP runs, or no witness round chases it (it would stay open anyway).
No cell ever passes on them; passing takes a witness or an exact LP solve.
"""

from __future__ import annotations

import numpy as np

from anonymiser.secondary.structure import BoolArray, FloatArray, IntArray

__all__ = ["implied_bounds"]

INF = float("inf")

# Two passes reach a cell's own relations and its neighbours' (row i, then the
# columns through row i in a 2-D table); a few more rarely tighten anything.
PASSES = 4


def _others(contrib: FloatArray, row: IntArray, n_rows: int) -> tuple[FloatArray, BoolArray]:
    """Per entry: the sum of the other entries of its row, and whether that sum is finite."""
    infinite = ~np.isfinite(contrib)
    part = np.where(infinite, 0.0, contrib)
    total = np.bincount(row, weights=part, minlength=n_rows).astype(np.float64)
    n_infinite = np.bincount(row[infinite], minlength=n_rows)
    # The others are finite when the entry itself holds all of its row's infinite terms.
    return total[row] - part, n_infinite[row] == infinite.astype(np.int64)


def implied_bounds(
    row: IntArray,
    col: IntArray,
    coef: FloatArray,
    row_lower: FloatArray,
    row_upper: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    passes: int = PASSES,
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper bounds per variable implied by the rows (COO ``row, col, coef``) and bounds.

    ``coef`` must be non-zero. Bounds are as computed in floating point: callers
    compare them with a tolerance.
    """
    lo, hi = lower.astype(np.float64), upper.astype(np.float64)
    n_rows = row_lower.size
    pos = coef > 0
    for _ in range(passes):
        # Least and most each entry can add to its row.
        least = np.where(pos, coef * lo[col], coef * hi[col])
        most = np.where(pos, coef * hi[col], coef * lo[col])
        others_least, least_ok = _others(least, row, n_rows)
        others_most, most_ok = _others(most, row, n_rows)
        # a * x <= upper - (others at their least); a * x >= lower - (others at their most).
        cap = np.where(least_ok, row_upper[row] - others_least, INF) / coef
        floor = np.where(most_ok, row_lower[row] - others_most, -INF) / coef
        # Dividing by a negative coefficient swaps which side a bound is on.
        new_hi = np.full(hi.size, INF)
        new_lo = np.full(lo.size, -INF)
        np.minimum.at(new_hi, col, np.where(pos, cap, floor))
        np.maximum.at(new_lo, col, np.where(pos, floor, cap))
        tighter_hi = new_hi < hi
        tighter_lo = new_lo > lo
        if not (tighter_hi.any() or tighter_lo.any()):
            break
        hi = np.where(tighter_hi, new_hi, hi)
        lo = np.where(tighter_lo, new_lo, lo)
    return lo, hi
