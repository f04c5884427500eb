"""The additive structure of one value column: cells as nodes, margins as linear relations.

A margin row holds :data:`~anonymiser.cells.TOTAL` in the group columns it sums
over. For every node and every dimension whose key is TOTAL, the node equals the
sum of the nodes with the same other keys and a non-TOTAL key in that dimension.
Cells released earlier (``prior``) join as nodes whose value is already public.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from anonymiser.cells import TOTAL, AggregateFn, CellTable

__all__ = ["ColumnStructure", "Prior", "build_column"]

Prior = Mapping[tuple[tuple[object, ...], str], float]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Relative slack on an equation: margins of float sums are computed in another
# order than the sum of their parts, so they agree only to rounding.
REL_TOL = 1e-9


@dataclass(frozen=True)
class ColumnStructure:
    """Nodes and relations of one additive column.

    Relation ``r`` reads ``sum(coef[e] * value[node[e]] for e in r) == 0`` (children
    +1, margin -1) when ``exact[r]``; otherwise the column counts distinct entities
    that may sit in several groups and only ``children >= margin`` holds.
    ``cells[i]`` is the table cell of node ``i`` (None for a node only in prior);
    ``fixed[i]`` marks nodes already public through ``prior``. ``rel_tol`` is the
    slack each relation is given for float rounding (0 for integer data).
    """

    column: str
    fn: AggregateFn
    cells: tuple[tuple[int, str] | None, ...]
    value: FloatArray
    fixed: BoolArray
    nonnegative: bool
    rel_ptr: IntArray
    rel_node: IntArray
    rel_coef: FloatArray
    exact: BoolArray
    rel_tol: FloatArray
    node_ptr: IntArray
    node_rel: IntArray

    @property
    def n_nodes(self) -> int:
        """Number of nodes (table cells plus prior-only cells)."""
        return len(self.cells)

    @property
    def n_relations(self) -> int:
        """Number of relations kept."""
        return len(self.rel_ptr) - 1

    def members(self, r: int) -> IntArray:
        """Nodes of relation ``r``."""
        return self.rel_node[self.rel_ptr[r] : self.rel_ptr[r + 1]]

    def relations_of(self, i: int) -> IntArray:
        """Relations node ``i`` takes part in."""
        return self.node_rel[self.node_ptr[i] : self.node_ptr[i + 1]]


class BadColumn(ValueError):
    """The column cannot be audited (non-finite values, duplicate keys...): suppress it whole."""


def build_column(table: CellTable, column: str, prior: Prior | None = None) -> ColumnStructure:
    """Derive nodes and margin relations of ``column``; raise :class:`BadColumn` on bad input.

    A prior key that is also a row of the table marks that cell public (it keeps
    the table's value, so the relations stay consistent); other prior keys become
    public nodes of their own. A relation is kept only when its margin node exists
    and at least one child does.
    """
    cells = [c for c in table if c.column == column]
    if not cells:
        raise BadColumn("no cells")
    fn = cells[0].fn
    keys: list[tuple[object, ...]] = []
    refs: list[tuple[int, str] | None] = []
    values: list[float] = []
    fixed: list[bool] = []
    index: dict[tuple[object, ...], int] = {}
    for cell in cells:
        key = table.keys[cell.row]
        # SQL sums over no values give NULL: that part contributes nothing.
        value = 0.0 if cell.value is None else float(cell.value)
        _check_key(key, index)
        index[key] = len(keys)
        keys.append(key)
        refs.append(cell.key)
        values.append(value)
        fixed.append(False)
    for (key, col), value in (prior or {}).items():
        if col != column:
            continue
        if len(key) != len(table.group_columns):
            raise BadColumn("prior key of the wrong width")
        v = float(value)
        if key in index:
            # Published before: the attacker knows it, whatever this query does.
            fixed[index[key]] = True
            continue
        _check_key(key, index)
        index[key] = len(keys)
        keys.append(key)
        refs.append(None)
        values.append(v)
        fixed.append(True)
    value_arr = np.asarray(values, dtype=np.float64)
    if not np.all(np.isfinite(value_arr)):
        raise BadColumn("non-finite value")
    nonnegative = bool(np.all(value_arr >= 0))
    if fn in (AggregateFn.COUNT, AggregateFn.COUNT_ROWS) and not nonnegative:
        raise BadColumn("negative count")
    rel_of, node_of, coef = _relations(keys, len(table.group_columns))
    return _assemble(
        column, fn, tuple(refs), value_arr, np.asarray(fixed), nonnegative, rel_of, node_of, coef
    )


def _check_key(key: tuple[object, ...], index: Mapping[tuple[object, ...], int]) -> None:
    try:
        seen = key in index
    except TypeError as exc:
        raise BadColumn("unhashable group key") from exc
    if seen:
        raise BadColumn("duplicate group key")


def _relations(keys: list[tuple[object, ...]], width: int) -> tuple[IntArray, IntArray, FloatArray]:
    """COO triplets (relation, node, coefficient) of all margin relations."""
    n = len(keys)
    if n == 0 or width == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    # Integer codes per dimension, 0 for TOTAL, so parents are found by arithmetic.
    codes = np.zeros((n, width), dtype=np.int64)
    radix: list[int] = []
    for d in range(width):
        seen: dict[object, int] = {}
        col = codes[:, d]
        for i, key in enumerate(keys):
            v = key[d]
            if v is not TOTAL:
                col[i] = seen.setdefault(v, len(seen) + 1)
        radix.append(len(seen) + 1)
    mult = [1] * width
    for d in range(width - 2, -1, -1):
        mult[d] = mult[d + 1] * radix[d + 1]
    if mult[0] * radix[0] >= 2**62:
        raise BadColumn("too many groups to index")
    ids = codes @ np.asarray(mult, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    rel_parts: list[IntArray] = []
    node_parts: list[IntArray] = []
    coef_parts: list[FloatArray] = []
    n_rel = 0
    for d in range(width):
        child = np.flatnonzero(codes[:, d] != 0)
        if child.size == 0:
            continue
        parent_ids = ids[child] - codes[child, d] * mult[d]
        pos = np.searchsorted(sorted_ids, parent_ids)
        pos = np.minimum(pos, n - 1)
        found = sorted_ids[pos] == parent_ids
        child = child[found]
        parent = order[pos[found]]
        if child.size == 0:
            continue
        uniq, rel_local = np.unique(parent, return_inverse=True)
        rel_parts += [rel_local + n_rel, np.arange(uniq.size) + n_rel]
        node_parts += [child, uniq]
        coef_parts += [np.ones(child.size), -np.ones(uniq.size)]
        n_rel += uniq.size
    if not rel_parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return (
        np.concatenate(rel_parts).astype(np.int64),
        np.concatenate(node_parts).astype(np.int64),
        np.concatenate(coef_parts),
    )


def _assemble(
    column: str,
    fn: AggregateFn,
    refs: tuple[tuple[int, str] | None, ...],
    value: FloatArray,
    fixed: BoolArray,
    nonnegative: bool,
    rel_of: IntArray,
    node_of: IntArray,
    coef: FloatArray,
) -> ColumnStructure:
    """Sort triplets into CSR both ways; keep relations the data satisfy."""
    n_rel = int(rel_of.max()) + 1 if rel_of.size else 0
    residual = np.bincount(rel_of, weights=coef * value[node_of], minlength=n_rel)
    scale = np.bincount(rel_of, weights=np.abs(value[node_of]), minlength=n_rel)
    tol = REL_TOL * scale + 1e-9
    exact = np.abs(residual) <= tol
    # Distinct-entity counts: one entity in several groups makes children exceed the margin.
    keep = exact | (residual > 0)
    new_id = np.cumsum(keep) - 1
    entry = keep[rel_of]
    rel_of, node_of, coef = new_id[rel_of[entry]], node_of[entry], coef[entry]
    # Integer data (counts) add up exactly: no slack at all.
    fractional = np.bincount(
        rel_of,
        weights=(value[node_of] != np.round(value[node_of])).astype(float),
        minlength=n_rel,
    )
    rel_tol = np.where(fractional > 0, tol, 0.0)[keep]
    exact = exact[keep]
    n_rel = int(keep.sum())
    by_rel = np.lexsort((node_of, rel_of))
    rel_ptr = np.concatenate([[0], np.cumsum(np.bincount(rel_of, minlength=n_rel))])
    by_node = np.lexsort((rel_of, node_of))
    node_ptr = np.concatenate([[0], np.cumsum(np.bincount(node_of, minlength=len(refs)))])
    return ColumnStructure(
        column=column,
        fn=fn,
        cells=refs,
        value=value,
        fixed=fixed,
        nonnegative=nonnegative,
        rel_ptr=rel_ptr.astype(np.int64),
        rel_node=node_of[by_rel].astype(np.int64),
        rel_coef=coef[by_rel],
        exact=exact,
        rel_tol=rel_tol,
        node_ptr=node_ptr.astype(np.int64),
        node_rel=rel_of[by_node].astype(np.int64),
    )
