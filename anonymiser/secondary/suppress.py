"""Secondary suppression: choose complements, audit with the LP, suppress more until it passes.

Per additive column: start from the primary cells, close the pattern (see
:mod:`anonymiser.secondary.choose`), audit it (see :mod:`anonymiser.secondary.audit`):
first against the bounds the relations alone imply, which show many too-narrow
cells without an LP (see :mod:`anonymiser.secondary.propagate`), then with the LP.
Every primary cell still too narrow first gets one more partner per relation
(twice), then its whole relations (twice), then the whole column. A primary cell
published earlier (``prior``) cannot be protected by this query: it is
reported, never escalated for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from anonymiser.cells import CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.secondary.audit import (
    Interval,
    additive_columns,
    audit_column,
    protection_range,
    too_narrow,
    unauditable,
)
from anonymiser.secondary.choose import Closure
from anonymiser.secondary.structure import BadColumn, ColumnStructure, Prior, build_column

__all__ = ["SecondaryResult", "protect"]

Cell = tuple[int, str]
# Escalation steps after the first audit: widen, widen, open, open, everything.
_STEPS = ("widen", "widen", "open", "open", "all")
_SOLVES_PER_STEP = 0


@dataclass(frozen=True)
class SecondaryResult:
    """The pattern chosen for one table and its audit.

    ``passed`` is True when every audited primary cell's interval meets its
    protection range; when False, ``unprotected`` names the cells that no
    suppression in this query can protect (already published through ``prior``).
    """

    primary: frozenset[Cell]
    complementary: frozenset[Cell]
    intervals: tuple[Interval, ...]
    passed: bool
    choose_seconds: float
    audit_seconds: float

    @property
    def suppressed(self) -> frozenset[Cell]:
        """Primary and complementary cells together."""
        return self.primary | self.complementary

    @property
    def unprotected(self) -> frozenset[Cell]:
        """Primary cells whose interval is still too narrow."""
        return frozenset(iv.cell for iv in self.intervals if not iv.protected)


def protect(
    table: CellTable,
    primary: frozenset[Cell],
    config: DisclosureConfig,
    prior: Prior | None = None,
) -> SecondaryResult:
    """Choose complementary suppressions so every primary cell is protected, and audit them.

    ``primary`` holds the cells the primary rules suppress (any column; only
    cells of additive columns - count, count_rows, sum - are protected here).
    ``prior`` maps (group key with TOTAL markers, value column) to values of the
    same table family released earlier; they count as public. Each additive
    column is protected on its own. A column that cannot be audited (a
    non-finite value, a negative count, duplicate group keys) is suppressed whole.
    """
    times = [0.0, 0.0]
    complementary: set[Cell] = set()
    intervals: list[Interval] = []
    for column in additive_columns(table):
        col_primary = {c for c in primary if c[1] == column}
        if not col_primary:
            continue
        try:
            st = build_column(table, column, prior)
        except BadColumn:
            every = {c.key for c in table if c.column == column}
            complementary |= every - primary
            intervals += unauditable(sorted(col_primary))
            continue
        extra, ivs = _protect_column(st, col_primary, config, times)
        complementary |= extra
        intervals += ivs
    intervals.sort(key=lambda iv: iv.cell)
    return SecondaryResult(
        primary=frozenset(primary),
        complementary=frozenset(complementary - primary),
        intervals=tuple(intervals),
        passed=all(iv.protected for iv in intervals),
        choose_seconds=times[0],
        audit_seconds=times[1],
    )


def _protect_column(
    st: ColumnStructure, primary: set[Cell], config: DisclosureConfig, times: list[float]
) -> tuple[set[Cell], list[Interval]]:
    t0 = time.perf_counter()
    node_of = {cell: i for i, cell in enumerate(st.cells) if cell is not None}
    nodes = np.array(sorted(node_of[c] for c in primary if c in node_of), dtype=np.int64)
    need = np.zeros(st.n_nodes)
    for i in nodes:
        need[i] = protection_range(float(st.value[i]), st.fn, config)
    closure = Closure(st, need)
    closure.add_many(nodes)
    closure.close()
    times[0] += time.perf_counter() - t0
    # Suppressing more only frees variables, so intervals only grow: a cell proven
    # protected stays proven, and each later audit looks at the rest only.
    done: dict[int, Interval] = {}
    todo = nodes
    for step in (*_STEPS, None):
        t1 = time.perf_counter()
        # Cells the rows alone keep too narrow need more suppression whatever the
        # LP says: escalate for them first, and run the LP audit once none is left.
        failing = (
            [] if step is None else [int(n) for n in too_narrow(st, closure.sup, todo, config)]
        )
        if not failing:
            # Between steps, a cell the witness rounds miss counts as failing unless a
            # few exact solves settle it; the last audit settles every cell exactly.
            limit = None if step is None else _SOLVES_PER_STEP
            ivs = audit_column(st, closure.sup, todo, config, exact=False, max_solves=limit)
            last = {int(n): iv for n, iv in zip(todo, ivs, strict=True)}
            done.update((n, iv) for n, iv in last.items() if iv.protected)
            todo = np.array([n for n in last if n not in done], dtype=np.int64)
            failing = [int(n) for n in todo if not st.fixed[n]]
            if not failing or step is None:
                done.update(last)
                times[1] += time.perf_counter() - t1
                break
        times[1] += time.perf_counter() - t1
        t2 = time.perf_counter()
        for n in failing:
            if step == "widen":
                closure.widen(n)
            elif step == "open":
                closure.open_relations(n)
        if step == "all":
            closure.add_many(np.arange(st.n_nodes))
        closure.close()
        times[0] += time.perf_counter() - t2
    extra = {st.cells[int(i)] for i in np.flatnonzero(closure.sup)}
    return {c for c in extra if c is not None} - primary, [done[int(n)] for n in nodes]
