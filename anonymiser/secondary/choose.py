"""Choosing complementary suppressions: a greedy closure over the margin relations.

No relation may hold exactly one suppressed cell (it would be its margin minus
the rest). While one does, the closure suppresses one more member of it, the
cheapest by, in order:

1. able to give the protection needed: a sibling that must shrink by the
   primary cell's protection range is not smaller than it (a margin always is);
2. information loss in cells: fewest relations newly left with one suppressed
   cell, minus those it completes (cost 1 per cell, not the value, so a
   suppressed cell counts the same whatever its size);
3. the smaller value.

This is fast (numpy per relation, no LP) but not optimal; the LP audit decides.
"""

from __future__ import annotations

import numpy as np

from anonymiser.secondary.structure import BoolArray, ColumnStructure, FloatArray, IntArray

__all__ = ["Closure"]


class Closure:
    """A suppression pattern that grows, keeping per-relation counts up to date."""

    def __init__(self, st: ColumnStructure, need: FloatArray) -> None:
        """Start empty; ``need[i]`` is node ``i``'s protection range (0 if none)."""
        self.st = st
        self.need = need.astype(np.float64).copy()
        self.sup: BoolArray = np.zeros(st.n_nodes, bool)
        self.count: IntArray = np.zeros(st.n_relations, dtype=np.int64)
        # Per node: how many of its relations have 0 and 1 suppressed members.
        self.zero: IntArray = np.diff(st.node_ptr).astype(np.int64)
        self.one: IntArray = np.zeros(st.n_nodes, dtype=np.int64)
        self._queue: list[int] = []

    def add(self, i: int, need: float = 0.0) -> None:
        """Suppress node ``i`` (a no-op for prior-published or already suppressed nodes)."""
        st = self.st
        if need > self.need[i]:
            self.need[i] = need
        if self.sup[i] or st.fixed[i]:
            return
        self.sup[i] = True
        for r in st.relations_of(i):
            c = self.count[r]
            self.count[r] = c + 1
            if c > 1:
                continue
            mem = st.members(int(r))
            if c == 0:
                self.zero[mem] -= 1
                self.one[mem] += 1
                self._queue.append(int(r))
            else:
                self.one[mem] -= 1

    def add_many(self, nodes: IntArray) -> None:
        """Suppress every node of ``nodes``."""
        for i in nodes:
            self.add(int(i))

    def best(self, r: int, anchor: int, need: float) -> int | None:
        """The cheapest released member of relation ``r`` to pair with ``anchor``; None if none."""
        st = self.st
        lo, hi = st.rel_ptr[r], st.rel_ptr[r + 1]
        mem = st.rel_node[lo:hi]
        coef = st.rel_coef[lo:hi]
        free = ~self.sup[mem] & ~st.fixed[mem]
        if not free.any():
            return None
        cand = mem[free]
        anchor_coef = coef[mem == anchor]
        same_side = coef[free] == (anchor_coef[0] if anchor_coef.size else 1.0)
        size = np.abs(st.value[cand])
        short = same_side & (size < need)
        loss = self.zero[cand] - self.one[cand]
        return int(cand[np.lexsort((size, loss, short))[0]])

    def close(self) -> None:
        """Add complements until no relation holds exactly one suppressed member it can pair."""
        st = self.st
        while self._queue:
            r = self._queue.pop()
            if self.count[r] != 1:
                continue
            mem = st.members(r)
            anchor = int(mem[self.sup[mem]][0])
            pick = self.best(r, anchor, float(self.need[anchor]))
            if pick is not None:
                self.add(pick, float(self.need[anchor]))

    def widen(self, node: int) -> None:
        """Pair ``node`` with one more member in each of its relations."""
        for r in self.st.relations_of(node):
            pick = self.best(int(r), node, float(self.need[node]))
            if pick is not None:
                self.add(pick, float(self.need[node]))

    def open_relations(self, node: int) -> None:
        """Suppress every member of every relation of ``node`` (its rows, columns...)."""
        for r in self.st.relations_of(node):
            self.add_many(self.st.members(int(r)))
