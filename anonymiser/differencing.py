"""Differencing and tracker protection: no released cell may differ from another by a few people.

Two cells whose entity sets differ by a few entities give those entities'
values away by subtraction: "the same count with one person filtered out",
overlapping filter windows (age 30-40, then 31-41), a margin next to one of its
parts. Each result row carries an :class:`~anonymiser.sketch.EntitySketch` of
its distinct entities; this rule compares every new row with the project's
released rows and with the other rows of the same table, and suppresses a row
whose set differs from one of them by 1 to min_entities-1 entities.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np

from anonymiser.cells import CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.sketch import BUCKETS_PER_TABLE, SUB_TABLES, EntitySketch, SketchArrays
from anonymiser.verdict import RuleResult

__all__ = [
    "RULE_NAME",
    "EntitySketch",
    "SketchArrays",
    "check_differencing",
    "differencing_rule",
    "find_differencing",
]

RULE_NAME: Final = "differencing"


def _set_rows(arrays: SketchArrays) -> list[int]:
    """Rows holding a well-formed sketch of a set (not of a difference)."""
    ok = arrays.valid & (arrays.ns >= 0) & (arrays.counts >= 0).all(axis=1)
    return [int(r) for r in np.flatnonzero(ok)]


class _Index:
    """Some rows of a :class:`SketchArrays`, sorted by n, laid out for vectorised filtering."""

    def __init__(self, arrays: SketchArrays, rows: Sequence[int]) -> None:
        self.arrays = arrays
        chosen = np.array(rows, dtype=np.int64)
        self.rows = chosen[np.argsort(arrays.ns[chosen], kind="stable")]
        self.ns = [int(n) for n in arrays.ns[self.rows]]
        self.first_keys = np.ascontiguousarray(arrays.keys[self.rows, :BUCKETS_PER_TABLE])
        self._cache: dict[int, EntitySketch] = {}

    def sketch(self, row: int) -> EntitySketch:
        """The sketch of one row, built on first use (only close candidates need one)."""
        if row not in self._cache:
            self._cache[row] = self.arrays.sketch(row)
        return self._cache[row]

    def close(self, query: SketchArrays, row: int, min_entities: int) -> list[int]:
        """Rows whose set may differ from the query row's by fewer than min_entities entities.

        Every filter here is a lower bound on the size of the symmetric
        difference, so it never drops a close pair: ``|n_a - n_b|``, then per
        sub-table the buckets that differ (each differing entity sits in one
        bucket per sub-table), counting a bucket for at least ``|count_a -
        count_b|`` entities.
        """
        n = int(query.ns[row])
        lo = bisect.bisect_right(self.ns, n - min_entities)
        hi = bisect.bisect_left(self.ns, n + min_entities)
        if lo >= hi:
            return []
        first = query.keys[row, :BUCKETS_PER_TABLE]
        # A few buckets already prove most unrelated sets far apart; the rest
        # of the sub-table is read only for the survivors.
        few = min(BUCKETS_PER_TABLE, 2 * min_entities)
        differing = np.count_nonzero(self.first_keys[lo:hi, :few] != first[:few], axis=1)
        kept = np.flatnonzero(differing < min_entities) + lo
        if few < BUCKETS_PER_TABLE and kept.size:
            differing = np.count_nonzero(self.first_keys[kept] != first, axis=1)
            kept = kept[differing < min_entities]
        candidates = self.rows[kept]
        if candidates.size:
            key_differs = self.arrays.keys[candidates] != query.keys[row]
            count_gap = np.abs(self.arrays.counts[candidates] - query.counts[row])
            least = np.maximum(count_gap, key_differs)
            bound = least.reshape(-1, SUB_TABLES, BUCKETS_PER_TABLE).sum(axis=2).max(axis=1)
            candidates = candidates[bound < min_entities]
        return [int(c) for c in candidates]


def _too_close(a: EntitySketch, b: EntitySketch, min_entities: int) -> bool:
    # A difference that does not decode counts as small unless its lower bound
    # proves otherwise (when in doubt, suppress).
    return 0 < a.subtract(b).min_difference() < min_entities


def find_differencing(
    new: Sequence[EntitySketch | None],
    released: Sequence[EntitySketch | bytes] | SketchArrays,
    min_entities: int,
) -> frozenset[int]:
    """Rows of a new table whose entity set differs by 1..min_entities-1 entities from another.

    "Another" is any released set of the project (sketches or their bytes)
    and any other row of the same table: a margin next to one of its parts, or
    two overlapping groups, leak by subtraction as surely as two queries do.
    A row close to a released set is always flagged; of a close pair inside
    the table only the row with more entities (usually the margin) is
    flagged, which breaks the pair. Identical sets (difference 0) reveal
    nothing new and pass. Rows of fewer than min_entities entities are left to
    the threshold rule, which suppresses all their cells: they are never
    released, so they neither need protection nor break a pair.

    A difference that does not decode is accepted as large only when its lower
    bound (:meth:`EntitySketch.min_difference`) reaches min_entities. A failed
    decode of a large difference leaves most buckets impure, each counting for
    at least two entities, so its bound exceeds any usual min_entities (<= 50);
    for a larger min_entities the rule errs towards suppression. A row without
    a sketch (or with a malformed one) is flagged whenever there is anything to
    compare it with; every row is flagged when a released sketch is malformed.
    """
    if min_entities <= 1:  # no difference lies in 1..0
        return frozenset()
    past = released if isinstance(released, SketchArrays) else SketchArrays.parse(released)
    past_rows = _set_rows(past)
    if len(past_rows) < len(past):
        return frozenset(range(len(new)))
    given = [i for i, s in enumerate(new) if s is not None]
    current = SketchArrays.parse([s for s in new if s is not None])
    position = {given[r]: r for r in _set_rows(current)}
    flagged: set[int] = set()
    if past_rows or position:
        flagged |= set(range(len(new))) - set(position)
    compared = [i for i in position if current.ns[position[i]] >= min_entities]
    if past_rows:
        index = _Index(past, past_rows)
        for i in compared:
            mine = new[i]
            assert mine is not None  # compared rows have sketches
            for other in index.close(current, position[i], min_entities):
                if _too_close(mine, index.sketch(other), min_entities):
                    flagged.add(i)
                    break
    if len(compared) > 1:
        siblings = _Index(current, [position[i] for i in compared])
        pairs: list[tuple[int, int]] = []
        for i in compared:
            mine = new[i]
            assert mine is not None  # compared rows have sketches
            for other in siblings.close(current, position[i], min_entities):
                j = given[other]
                if j > i and _too_close(mine, siblings.sketch(other), min_entities):
                    pairs.append((i, j))
        for i, j in sorted(pairs):
            if i not in flagged and j not in flagged:
                # Suppress the larger set: usually the margin, keeping the finer rows.
                size_i, size_j = int(current.ns[position[i]]), int(current.ns[position[j]])
                flagged.add(i if (size_i, i) > (size_j, j) else j)
    return frozenset(flagged)


def _as_sketch(value: object) -> EntitySketch | None:
    if isinstance(value, EntitySketch):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return EntitySketch.from_bytes(bytes(value))
        except ValueError:
            return None
    return None


def check_differencing(
    table: CellTable,
    released: Sequence[EntitySketch | bytes] | SketchArrays,
    config: DisclosureConfig,
) -> RuleResult:
    """The differencing rule: suppress every cell of a row that :func:`find_differencing` flags.

    ``table.sketches`` may hold :class:`EntitySketch` objects or their bytes;
    ``released`` are the sketches of rows released earlier in the project
    (store only rows of which at least one cell was released).
    """
    if not config.differencing:
        return RuleResult(RULE_NAME, frozenset(), "differencing check off by policy")
    sketches = [_as_sketch(s) for s in table.sketches] or [None] * len(table.keys)
    rows = find_differencing(sketches, released, config.min_entities)
    suppress = frozenset(cell.key for cell in table.cells if cell.row in rows)
    summary = (
        f"{len(rows)} of {len(table.keys)} rows differ from a released or sibling row "
        f"by 1 to {config.min_entities - 1} entities"
    )
    return RuleResult(RULE_NAME, suppress, summary)


def differencing_rule(
    released: Sequence[EntitySketch | bytes] | SketchArrays,
) -> Callable[[CellTable, DisclosureConfig], RuleResult]:
    """:func:`check_differencing` bound to a project's released sketches, as an assess() rule."""

    def rule(table: CellTable, config: DisclosureConfig) -> RuleResult:
        return check_differencing(table, released, config)

    rule.__name__ = RULE_NAME
    return rule
