"""Disclosure rules: each a pure function from a cell table and config to a :class:`RuleResult`."""

from __future__ import annotations

from collections.abc import Callable

from anonymiser.cells import CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.verdict import RuleResult

__all__ = ["RULES", "Rule", "min_entities"]

Rule = Callable[[CellTable, DisclosureConfig], RuleResult]


def min_entities(table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Suppress every cell that fewer than ``min_entities`` distinct entities contribute to.

    This covers min/max too: a small group's extreme is one person's own value.
    """
    hits = frozenset(cell.key for cell in table if cell.entities < config.min_entities)
    return RuleResult(
        rule="min_entities",
        suppress=hits,
        summary=f"{len(hits)} cell(s) with fewer than {config.min_entities} distinct entities",
    )


# Applied in order; later issues add dominance, secondary suppression, differencing...
RULES: tuple[Rule, ...] = (min_entities,)
