"""Protection ranges and the LP audit of a suppression pattern.

Protection (the stricter, tau-argus/sdcTable reading: an upper *and* a lower
protection level, each the full range). For a primary cell with value ``v`` in
an additive column, the protection range is

    P = max(protection_percent / 100 * |v|, min_entities)   for count columns
    P = protection_percent / 100 * |v|, or 1 unit when that is 0, for sums

and the attacker's feasible interval ``[lo, hi]`` (LP over all relations and
released values, cells >= 0 where the column has no negative value) must reach
``hi >= v + P`` and ``lo <= max(v - P, 0)`` (``lo <= v - P`` for a column with
negative values). So the interval is at least ``P`` wide on each side, except
that a non-negative cell need only be able to be 0 below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from anonymiser.cells import AggregateFn, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.secondary.lp import AttackerLP, AttackerRows
from anonymiser.secondary.structure import (
    BadColumn,
    BoolArray,
    ColumnStructure,
    FloatArray,
    IntArray,
    Prior,
    build_column,
)

__all__ = ["Interval", "audit", "audit_column", "protection_range", "targets", "too_narrow"]

Cell = tuple[int, str]
INF = float("inf")


@dataclass(frozen=True)
class Interval:
    """The attacker's feasible interval of one suppressed cell, as far as the audit proved it.

    ``lo``/``hi`` are reachable values (the true interval contains them); they are
    the exact LP optimum when ``exact``. ``protected`` says whether they meet the
    targets ``lower_target``/``upper_target`` of the protection range.
    """

    cell: Cell
    lo: float
    hi: float
    lower_target: float
    upper_target: float
    exact: bool
    protected: bool

    @property
    def width(self) -> float:
        """How far apart the proven bounds are."""
        return self.hi - self.lo


def protection_range(value: float, fn: AggregateFn, config: DisclosureConfig) -> float:
    """The protection range ``P`` of a primary cell (see the module docstring)."""
    p = config.protection_percent / 100.0 * abs(value)
    if fn in (AggregateFn.COUNT, AggregateFn.COUNT_ROWS):
        return max(p, float(config.min_entities))
    return p if p > 0 else 1.0


def targets(
    st: ColumnStructure, nodes: IntArray, config: DisclosureConfig
) -> tuple[FloatArray, FloatArray]:
    """Lower and upper targets per node: ``lo`` must reach the first, ``hi`` the second."""
    v = st.value[nodes]
    p = np.array([protection_range(float(x), st.fn, config) for x in v])
    lower = np.maximum(v - p, 0.0) if st.nonnegative else v - p
    return lower, v + p


def too_narrow(
    st: ColumnStructure, suppressed: BoolArray, nodes: IntArray, config: DisclosureConfig
) -> IntArray:
    """Suppressed ``nodes`` whose targets the rows alone put out of reach: failing, no LP needed.

    Only a shortcut to failing (see :mod:`anonymiser.secondary.propagate`): a node
    not returned still needs the LP audit.
    """
    nodes = nodes[suppressed[nodes]]
    if nodes.size == 0:
        return nodes
    lower, upper = targets(st, nodes, config)
    rows = AttackerRows(st, suppressed)
    up, down = rows.unreachable(rows.var_of[nodes], lower, upper)
    return nodes[up | down]


def audit_column(
    st: ColumnStructure,
    suppressed: BoolArray,
    nodes: IntArray,
    config: DisclosureConfig,
    exact: bool,
    max_solves: int | None = None,
) -> list[Interval]:
    """Intervals of ``nodes`` (all suppressed or fixed) under the pattern ``suppressed``.

    A node already public through ``prior`` cannot move: its interval is its value.
    """
    lower, upper = targets(st, nodes, config)
    open_ = suppressed[nodes]
    lo = st.value[nodes].copy()
    hi = lo.copy()
    is_exact = np.ones(nodes.size, bool)
    if open_.any():
        model = AttackerLP(st, suppressed)
        b = model.bounds(nodes[open_], lower[open_], upper[open_], exact, max_solves)
        lo[open_], hi[open_] = b.lo, b.hi
        is_exact[open_] = b.lo_exact & b.hi_exact
    tol_lo = 1e-7 * (1.0 + np.abs(lower))
    tol_hi = 1e-7 * (1.0 + np.abs(upper))
    ok = (lo <= lower + tol_lo) & (hi >= upper - tol_hi)
    out = []
    for k, node in enumerate(nodes):
        cell = st.cells[int(node)]
        if cell is None:
            continue
        out.append(
            Interval(
                cell=cell,
                lo=float(lo[k]),
                hi=float(hi[k]),
                lower_target=float(lower[k]),
                upper_target=float(upper[k]),
                exact=bool(is_exact[k]),
                protected=bool(ok[k]),
            )
        )
    return out


def additive_columns(table: CellTable) -> list[str]:
    """Value columns whose cells are all of one additive aggregate."""
    fns: dict[str, set[AggregateFn]] = {}
    for cell in table:
        fns.setdefault(cell.column, set()).add(cell.fn)
    return [
        c
        for c in table.value_columns
        if len(f := fns.get(c, set())) == 1 and next(iter(f)).is_additive
    ]


def unauditable(cells: Iterable[Cell]) -> list[Interval]:
    """Intervals for a column that is suppressed whole because it cannot be audited."""
    return [Interval(c, -INF, INF, -INF, INF, exact=False, protected=True) for c in cells]


def audit(
    table: CellTable,
    suppressed: frozenset[Cell],
    config: DisclosureConfig,
    prior: Prior | None = None,
    primary: frozenset[Cell] | None = None,
    exact: bool = True,
) -> list[Interval]:
    """The attacker's LP interval of every ``primary`` cell (default: all ``suppressed``).

    Everything not in ``suppressed`` counts as released, plus ``prior``. Cells
    of non-additive columns are not audited. ``exact`` computes each interval
    by minimising and maximising the cell; otherwise the audit stops once the
    targets are proven reachable (see :meth:`AttackerLP.bounds`). A column that
    cannot be audited (non-finite values, duplicate keys, negative counts) yields
    unbounded intervals only when all of its cells are suppressed; else its
    targets fail.
    """
    wanted = suppressed if primary is None else primary
    out: list[Interval] = []
    for column in additive_columns(table):
        cells = [c for c in wanted if c[1] == column]
        if not cells:
            continue
        try:
            st = build_column(table, column, prior)
        except BadColumn:
            all_cells = {c.key for c in table if c.column == column}
            if all_cells <= suppressed:
                out += unauditable(cells)
            else:
                out += [
                    Interval(c, 0.0, 0.0, -INF, INF, exact=False, protected=False) for c in cells
                ]
            continue
        node_of = {cell: i for i, cell in enumerate(st.cells) if cell is not None}
        mask = np.zeros(st.n_nodes, bool)
        for c in suppressed:
            i = node_of.get(c)
            if i is not None and not st.fixed[i]:
                mask[i] = True
        nodes = np.array(sorted(node_of[c] for c in cells if c in node_of), dtype=np.int64)
        out += audit_column(st, mask, nodes, config, exact)
    out.sort(key=lambda iv: iv.cell)
    return out
