"""Attack: recover a suppressed cell from the margins released with it, or released earlier."""

from __future__ import annotations

import numpy as np
import pytest

from anonymiser.cells import TOTAL, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.secondary import audit, protect
from tests.anonymiser.secondary_tables import attacker_interval, table_with_margins

CONFIG = DisclosureConfig(min_entities=10, protection_percent=10.0)
PLANTED = 3  # the small cell that stands for a few identifiable people

TABLES = {
    "2x2": np.array([[PLANTED, 25], [40, 31]]),
    "3x3": np.array([[22, 17, 30], [18, PLANTED, 26], [35, 41, 12]]),
}


def _planted(table: CellTable) -> tuple[int, str]:
    return next(c.key for c in table if c.value == PLANTED and not table.is_margin(c.row))


def _value(table: CellTable, key: tuple[object, ...]) -> float:
    row = table.keys.index(key)
    return float(next(c.value for c in table if c.row == row and c.value is not None))


@pytest.mark.parametrize("name", list(TABLES))
def test_primary_suppression_alone_gives_the_cell_away(name: str) -> None:
    table = table_with_margins(TABLES[name])
    cell = _planted(table)
    r, _ = table.keys[cell[0]]
    # The attacker subtracts the released row members from the released row total.
    row_total = _value(table, (r, TOTAL))
    others = sum(_value(table, (r, f"k{j}")) for j in range(TABLES[name].shape[1])) - PLANTED
    assert row_total - others == PLANTED
    lo, hi = attacker_interval(table, {cell}, cell)
    assert lo == hi == PLANTED
    (iv,) = audit(table, frozenset({cell}), CONFIG)
    assert not iv.protected and iv.hi - iv.lo < 1e-9


@pytest.mark.parametrize("name", list(TABLES))
def test_protect_leaves_the_attacker_a_wide_interval(name: str) -> None:
    table = table_with_margins(TABLES[name])
    cell = _planted(table)
    result = protect(table, frozenset({cell}), CONFIG)
    assert result.passed and result.complementary
    lo, hi = attacker_interval(table, set(result.suppressed), cell)
    # Many counts fit: down to nobody, up to at least the threshold above the truth.
    assert lo == 0
    assert hi >= PLANTED + CONFIG.min_entities
    assert len(range(int(np.ceil(lo)), int(np.floor(hi)) + 1)) > 10


def test_margins_released_earlier_still_protect_the_cell() -> None:
    full = table_with_margins(TABLES["3x3"])
    # Query 1 released only the margins; query 2 asks for the interior without margins.
    prior = {
        (full.keys[c.row], c.column): float(c.value or 0) for c in full if full.is_margin(c.row)
    }
    interior = table_with_margins(TABLES["3x3"], margins=[])
    cell = _planted(interior)
    lo, hi = attacker_interval(interior, {cell}, cell, prior=prior)
    assert lo == hi == PLANTED  # the earlier margins give it away
    (iv,) = audit(interior, frozenset({cell}), CONFIG, prior=prior)
    assert not iv.protected
    result = protect(interior, frozenset({cell}), CONFIG, prior=prior)
    assert result.passed and result.complementary
    lo, hi = attacker_interval(interior, set(result.suppressed), cell, prior=prior)
    assert lo == 0 and hi >= PLANTED + CONFIG.min_entities


def test_without_prior_the_interior_query_needs_nothing() -> None:
    interior = table_with_margins(TABLES["3x3"], margins=[])
    cell = _planted(interior)
    result = protect(interior, frozenset({cell}), CONFIG)
    assert result.passed and result.complementary == frozenset()


def test_a_cell_published_earlier_cannot_be_protected_now() -> None:
    table = table_with_margins(TABLES["2x2"])
    cell = _planted(table)
    prior = {(table.keys[cell[0]], "v"): float(PLANTED)}
    result = protect(table, frozenset({cell}), CONFIG, prior=prior)
    assert not result.passed
    assert result.unprotected == frozenset({cell})
    # Not escalated: suppressing more cannot take back what was published.
    assert result.complementary == frozenset()
