"""Primary disclosure rules: each a pure function from a cell table and config to a RuleResult.

Every rule judges each cell on its own statistics (class disclosure looks at a
row's siblings) and suppresses when a statistic it needs is missing or
malformed: when in doubt, suppress. Margin rows (keys holding ``TOTAL``) are
ordinary cells here. Summaries name rules and counts, never values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.verdict import RuleResult

__all__ = [
    "RULES",
    "Rule",
    "class_disclosure",
    "dominance_nk",
    "invalid_value",
    "is_valid_cell",
    "min_entities",
    "order_statistic",
    "p_percent",
]

Rule = Callable[[CellTable, DisclosureConfig], RuleResult]

_COUNTS = (AggregateFn.COUNT, AggregateFn.COUNT_ROWS)


def _finite(x: object) -> bool:
    """A real, finite number (bool is not a number here)."""
    kind = type(x)
    if kind is float or kind is int:
        return math.isfinite(x)  # type: ignore[arg-type]
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _contributions_ok(top: tuple[float, ...]) -> bool:
    """All finite and non-negative; a sum that is not finite means some part is not."""
    if not top:
        return True
    try:
        return math.isfinite(sum(top)) and min(top) >= 0
    except TypeError:
        return False


def _count_ok(x: object) -> bool:
    """A non-negative whole number, as a count must be."""
    if type(x) is int:
        return x >= 0
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return False
    return x >= 0 and float(x).is_integer()


def is_valid_cell(cell: CellStats) -> bool:
    """Whether a cell's statistics are well formed: finite numbers, no negative counts.

    The value must be a finite number (None, NaN and infinities are not), a
    count must be a non-negative whole number, ``entities`` a non-negative
    int; ``top``, ``total``, ``at_or_below`` and ``at_or_above``, when
    present, must be finite and non-negative (contributions are absolute).
    """
    if not _finite(cell.value) or not _count_ok(cell.entities) or type(cell.entities) is not int:
        return False
    if cell.fn in _COUNTS and not _count_ok(cell.value):
        return False
    if not _contributions_ok(cell.top):
        return False
    if cell.total is not None and (not _finite(cell.total) or cell.total < 0):
        return False
    sides = (cell.at_or_below, cell.at_or_above)
    return all(s is None or (_count_ok(s) and type(s) is int) for s in sides)


def _result(rule: str, hits: Iterable[tuple[int, str]], what: str) -> RuleResult:
    found = frozenset(hits)
    return RuleResult(rule=rule, suppress=found, summary=f"{len(found)} cell(s) {what}")


def invalid_value(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Suppress every cell whose statistics are malformed (see :func:`is_valid_cell`).

    NaN, infinities, None values, negative or fractional counts, negative
    entity counts and negative contributions all land here, so no other rule
    has to decide what such a cell means.
    """
    del config
    return _result(
        "invalid_value",
        (c.key for c in table if not is_valid_cell(c)),
        "with a missing, non-finite or negative statistic",
    )


def min_entities(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Suppress every cell that fewer than ``min_entities`` distinct entities contribute to.

    This covers min/max too: a small group's extreme is one person's own value.
    A zero cell (no entities) is always below the threshold.
    """
    hits = (c.key for c in table if not (_finite(c.entities) and c.entities >= config.min_entities))
    return _result("min_entities", hits, f"with fewer than {config.min_entities} distinct entities")


def _magnitude_total(cell: CellStats) -> float | None:
    """The total of contributions when what the dominance rules read is well formed; else None."""
    total = cell.total
    if total is None or not _finite(total) or total < 0:
        return None
    if not (_count_ok(cell.entities) and _contributions_ok(cell.top)):
        return None
    value = cell.value
    if cell.fn is AggregateFn.SUM and _finite(value) and abs(value) > total * (1 + 1e-9) + 1e-9:  # type: ignore[arg-type]
        return None  # a sum cannot exceed the sum of absolute contributions: inconsistent
    return total


def _dominated(cell: CellStats, n: int, k: float) -> bool:
    """The (n,k) test on one magnitude cell; True (suppress) when it cannot be decided."""
    total = _magnitude_total(cell)
    if total is None:
        return True
    if not cell.top:
        # No contributions listed: only a cell nobody contributes to has nothing to dominate.
        return cell.entities > 0 or total != 0
    if len(cell.top) < min(n, cell.entities):
        return True  # the engine cut the list shorter than the rule needs
    top_n = math.fsum(cell.top[:n])
    if top_n > total * (1 + 1e-9) + 1e-9:
        return True  # inconsistent statistics
    if total == 0:
        return False  # every contribution is zero: nothing to dominate
    # >= rather than >: a share exactly at k is flagged, as ACRO does (when in doubt, suppress).
    return top_n >= k / 100 * total


def dominance_nk(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Suppress a sum or mean whose ``n`` largest contributors hold at least ``k``% of it.

    Uses the absolute per-entity contributions ``top`` and their sum ``total``.
    A magnitude cell without ``top``/``total`` is suppressed (it cannot be
    judged), and so is one with fewer than ``n`` contributions listed while more
    entities contribute. A cell whose ``total`` is 0 is released by this rule:
    all contributions are zero, so there is nothing to dominate (the threshold
    rule still applies). With ``n`` or fewer entities the top ``n`` hold 100%.
    """
    n, k = config.dominance_n, config.dominance_k
    hits = (c.key for c in table if c.fn.is_magnitude and _dominated(c, n, k))
    return _result("dominance_nk", hits, f"where the top {n} contributor(s) hold >= {k}%")


def _p_violated(cell: CellStats, p: float) -> bool:
    """The p% test on one magnitude cell; True (suppress) when it cannot be decided."""
    total = _magnitude_total(cell)
    if total is None:
        return True
    if not cell.top:
        return cell.entities > 0 or total != 0
    if len(cell.top) < 2 and cell.entities >= 2:
        return True  # the second-largest contribution is missing
    first = cell.top[0]
    second = cell.top[1] if len(cell.top) > 1 else 0.0
    rest = total - first - second
    # What the second-largest contributor does not know about the largest, versus p% of it.
    return rest < p / 100 * first


def p_percent(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Suppress a sum or mean where the second-largest contributor can estimate the largest.

    The second-largest knows the total minus its own contribution; what it
    cannot see is ``total - top[0] - top[1]``. When that is less than ``p``% of
    ``top[0]``, it learns the largest contribution to within p%. One entity
    alone is always caught (nothing else hides it); a cell whose largest
    contribution is 0 has nothing to reveal.
    """
    p = config.p_percent
    hits = (c.key for c in table if c.fn.is_magnitude and _p_violated(c, p))
    return _result("p_percent", hits, f"where the largest contribution is known within {p}%")


def order_statistic(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Release a min, max, median or quantile only with enough entities on both sides.

    Such a value is some entity's own value; it is released only when at
    least ``min_entities`` distinct entities lie at or below it and at least
    as many at or above it (so a max is released only when that many share
    it). Missing or inconsistent counts (a side larger than the cell) suppress.
    """
    m = config.min_entities

    def unsafe(c: CellStats) -> bool:
        below, above = c.at_or_below, c.at_or_above
        if not (_count_ok(below) and _count_ok(above)) or below is None or above is None:
            return True
        if below > c.entities or above > c.entities:
            return True  # more entities on one side than in the cell: inconsistent
        return below < m or above < m

    hits = (c.key for c in table if c.fn.is_order_statistic and unsafe(c))
    return _result("order_statistic", hits, f"with fewer than {m} entities on one side")


def _row_entities(table: CellTable) -> dict[int, int | None]:
    """Entities per row: the largest count over its cells; None when malformed."""
    out: dict[int, int | None] = {}
    for c in table:
        e = c.entities if _count_ok(c.entities) else None
        prev = out.get(c.row, 0)
        out[c.row] = None if e is None or prev is None else max(prev, e)
    return out


def class_disclosure(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Flag groups in which all entities share one value of a sensitive group column.

    For each sensitive column ``s``, rows whose ``s`` key is not ``TOTAL`` are
    grouped by their other group keys (``TOTAL`` there is an ordinary value;
    with no other columns the whole table is one group). The observed domain
    of ``s`` is its distinct non-``TOTAL`` keys in the table; with fewer than
    two values the filter, not the data, says who is in the table, and
    nothing is flagged. A group is disclosive when exactly one of its rows
    has entities (>0): everyone in it has that category. Then every cell of
    that row is flagged. With ``zeros_disclosive`` the group's other rows
    (its zero cells) and its margin rows over ``s`` (``TOTAL`` in ``s``, same
    other keys) are flagged as well, because the group total next to zeros
    says everyone is in one category. A row with malformed entity counts
    counts as non-empty (more rows non-empty means fewer groups flagged, but
    such cells are suppressed as ``invalid_value`` anyway). Zero cells are also
    below ``min_entities``; a combination the engine left out of the table
    cannot be flagged here, so the engine should emit empty combinations.
    """
    if not config.class_disclosure or not table.sensitive:
        return _result("class_disclosure", (), "in a group that shares one sensitive category")
    entities = _row_entities(table)
    by_row: dict[int, list[CellStats]] = defaultdict(list)
    for c in table:
        by_row[c.row].append(c)
    flagged: set[int] = set()
    for s in sorted(table.sensitive):
        i = table.group_columns.index(s)
        groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
        margins: dict[tuple[object, ...], list[int]] = defaultdict(list)
        domain: set[object] = set()
        for row, key in enumerate(table.keys):
            rest = tuple(
                ("TOTAL", "") if v is TOTAL else ("v", v) for j, v in enumerate(key) if j != i
            )
            if key[i] is TOTAL:
                margins[rest].append(row)
            else:
                groups[rest].append(row)
                domain.add(key[i])
        if len(domain) < 2:
            continue
        for combo, rows in groups.items():
            # A row without cells or with malformed counts is taken as non-empty.
            nonempty = [r for r in rows if entities.get(r) != 0]
            if len(nonempty) != 1:
                continue
            flagged.add(nonempty[0])
            if config.zeros_disclosive:
                flagged.update(rows)
                flagged.update(margins.get(combo, ()))
    hits = (c.key for r in sorted(flagged) for c in by_row.get(r, ()))
    return _result("class_disclosure", hits, "in a group that shares one sensitive category")


# Applied in this order; secondary suppression, differencing and DP run after these.
RULES: tuple[Rule, ...] = (
    invalid_value,
    min_entities,
    dominance_nk,
    p_percent,
    order_statistic,
    class_disclosure,
)
