"""Base-b rounding of released counts: deterministic, per cell, audited against its margins.

Every count and count_rows cell that survives suppression, margins included,
is rounded on its own to the nearest multiple of the base (halves round up).
Deterministic: the same true value always gives the same rounded value, so
asking again adds nothing (no fresh randomness to average away).

Consistent: a rounded value ``R`` says only that the truth is one of the ``b``
whole numbers that round to ``R``. Rounding parts and margin independently
can, at the edges, pin a margin more tightly than that: four parts of 12
rounded to 10 each say the total is 32..48, and the total 48 rounded to 50
says 48..52, so it is exactly 48 (and every part exactly 12).
:func:`tight_margins` finds every released margin whose rounded parts and own
rounded value leave fewer than ``b`` possible totals; the assessment then
suppresses it (rule ``rounding``). One margin relation at a time is checked
(a margin over one group column and its parts); chains across several
margins are left to the secondary-suppression audit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable

__all__ = ["ROUNDED_FNS", "round_cells", "round_value", "tight_margins"]

# Only counts are rounded; sums and means are protected by the dominance rules.
ROUNDED_FNS = frozenset({AggregateFn.COUNT, AggregateFn.COUNT_ROWS})


def round_value(value: float, base: int) -> int:
    """Round ``value`` to the nearest multiple of ``base`` (halves away from zero).

    ``base`` 1 rounds to the nearest whole number. Raises ValueError for a
    base below 1 or a non-finite value (callers suppress such cells first).
    """
    if base < 1:
        raise ValueError("rounding base must be at least 1")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("cannot round a non-finite value")
    if isinstance(value, int):
        # Integer arithmetic, so big counts keep their last digits.
        q, r = divmod(abs(value), base)
        magnitude = (q + (1 if 2 * r >= base else 0)) * base
    else:
        magnitude = math.floor(abs(value) / base + 0.5) * base
    return -magnitude if value < 0 else magnitude


def round_cells(
    cells: Iterable[CellStats], released: Iterable[tuple[int, str]], base: int
) -> Mapping[tuple[int, str], int]:
    """Rounded values of the released count cells, keyed by position (empty when base is 1).

    Cells that are not counts, not released, or without a finite value are left out.
    """
    if base <= 1:
        return {}
    keep = frozenset(released)
    out: dict[tuple[int, str], int] = {}
    for cell in cells:
        value = cell.value
        if cell.fn not in ROUNDED_FNS or cell.key not in keep or isinstance(value, bool):
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            out[cell.key] = round_value(value, base)
    return out


def _truths(rounded: int, base: int) -> tuple[int, int]:
    """The whole numbers (inclusive range) that round to ``rounded``; counts are never negative."""
    return max(0, rounded - base // 2), rounded + (base + 1) // 2 - 1


def _relations(table: CellTable) -> list[tuple[int, list[int]]]:
    """(margin row, its part rows) for every margin over one group column."""
    width = len(table.group_columns)
    out: list[tuple[int, list[int]]] = []
    for j in range(width):
        parts: dict[tuple[object, ...], list[int]] = {}
        margins: list[tuple[int, tuple[object, ...]]] = []
        for row, key in enumerate(table.keys):
            # TOTAL compared by identity; other keys by (type, value) so 1 and 1.0 and True differ.
            rest = tuple(
                ("T",) if v is TOTAL else ("v", type(v), v) for i, v in enumerate(key) if i != j
            )
            if key[j] is TOTAL:
                margins.append((row, rest))
            else:
                parts.setdefault(rest, []).append(row)
        out.extend((row, parts.get(rest, [])) for row, rest in margins)
    return out


def tight_margins(
    table: CellTable, rounded: Mapping[tuple[int, str], int], base: int
) -> frozenset[tuple[int, str]]:
    """Released margin counts that their rounded parts pin to fewer than ``base`` values.

    A relation is checked only when the margin and all its parts are rounded
    (released counts); one with a suppressed part is secondary suppression's
    business. Empty when ``base`` is 1.
    """
    if base <= 1 or not rounded:
        return frozenset()
    out: set[tuple[int, str]] = set()
    for column in table.value_columns:
        for margin, parts in _relations(table):
            keys = [(row, column) for row in parts]
            if (margin, column) not in rounded or not all(k in rounded for k in keys):
                continue
            lo, hi = _truths(rounded[(margin, column)], base)
            part_ranges = [_truths(rounded[k], base) for k in keys]
            lo = max(lo, sum(r[0] for r in part_ranges))
            hi = min(hi, sum(r[1] for r in part_ranges))
            if hi - lo + 1 < base:
                out.add((margin, column))
    return frozenset(out)
