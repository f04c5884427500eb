"""Helpers for secondary-suppression tests: count/sum tables with margins and an independent LP."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import highspy
import numpy as np

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable


def table_with_margins(
    interior: np.ndarray,
    fn: AggregateFn = AggregateFn.COUNT,
    margins: Iterable[tuple[bool, ...]] | None = None,
    entities: np.ndarray | None = None,
) -> CellTable:
    """A table of ``interior`` plus the margins summed over each pattern in ``margins``.

    A pattern marks with True the dimensions summed over; default: every pattern
    (all margins and the grand total). Entities default to the value (counts).
    """
    dims = interior.ndim
    patterns = (
        list(margins)
        if margins is not None
        else list(itertools.product((False, True), repeat=dims))
    )
    if (False,) * dims not in patterns:
        patterns.insert(0, (False,) * dims)
    keys: list[tuple[object, ...]] = []
    cells: list[CellStats] = []
    for summed in patterns:
        axes = tuple(d for d in range(dims) if summed[d])
        part = interior.sum(axis=axes, keepdims=True) if axes else interior
        for idx in np.ndindex(*part.shape):
            key = tuple(TOTAL if summed[d] else f"k{idx[d]}" for d in range(dims))
            v = part[idx].item()
            n = int(abs(v)) if entities is None or any(summed) else int(entities[idx])
            cells.append(CellStats(len(keys), "v", fn, v, n))
            keys.append(key)
    return CellTable(tuple(f"g{d}" for d in range(dims)), ("v",), tuple(keys), tuple(cells))


def attacker_interval(
    table: CellTable,
    suppressed: set[tuple[int, str]],
    cell: tuple[int, str],
    nonnegative: bool = True,
    prior: dict[tuple[tuple[object, ...], str], float] | None = None,
) -> tuple[float, float]:
    """The attacker's LP interval of ``cell``, written from scratch (no code shared with Sluis).

    One variable per cell of the column (released ones fixed to their value,
    prior ones fixed too), one equation per margin and summed dimension.
    """
    column = cell[1]
    nodes: dict[tuple[object, ...], tuple[float, bool]] = {}
    for c in table:
        if c.column == column:
            nodes[table.keys[c.row]] = (float(c.value or 0.0), c.key not in suppressed)
    for (key, col), value in (prior or {}).items():
        if col == column:
            nodes[key] = (float(value), True)
    keys = list(nodes)
    pos = {k: i for i, k in enumerate(keys)}
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    # A box far beyond any test value keeps every LP bounded; reaching it means unbounded.
    big = 1e3 * (1.0 + max((abs(v) for v, _ in nodes.values()), default=0.0))
    for k in keys:
        value, known = nodes[k]
        lo = value if known else (0.0 if nonnegative else -big)
        hi = value if known else big
        h.addVar(lo, hi)
    for k in keys:
        for d, part in enumerate(k):
            if part is not TOTAL:
                continue
            children = [
                pos[c]
                for c in keys
                if c[d] is not TOTAL and all(c[e] == k[e] for e in range(len(k)) if e != d)
            ]
            if not children:
                continue
            idx = np.array([*children, pos[k]], dtype=np.int32)
            val = np.array([1.0] * len(children) + [-1.0])
            h.addRow(0.0, 0.0, len(idx), idx, val)
    target = pos[table.keys[cell[0]]]
    bounds = []
    for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
        cost = np.zeros(len(keys))
        cost[target] = 1.0
        h.changeColsCost(len(keys), np.arange(len(keys), dtype=np.int32), cost)
        h.changeObjectiveSense(sense)
        h.run()
        status = h.getModelStatus()
        for option, value in (("presolve", "off"), ("solver", "ipm")):
            if status == highspy.HighsModelStatus.kOptimal:
                break
            # Numerical trouble on a wide box: ask again another way.
            h.setOptionValue(option, value)
            h.run()
            status = h.getModelStatus()
        assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
        x = float(h.getSolution().col_value[target])
        bounds.append(-inf if x <= -big / 2 else inf if x >= big / 2 else x)
    return bounds[0], bounds[1]
