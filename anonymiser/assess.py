"""Run every disclosure rule over a cell table and combine their findings into verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from anonymiser.cells import CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.rules import RULES, Rule
from anonymiser.verdict import CellVerdict, RuleResult, Status

__all__ = ["Assessment", "assess"]


@dataclass(frozen=True)
class Assessment:
    """Verdicts for every cell of a table plus each rule's own finding."""

    config: DisclosureConfig
    verdicts: tuple[CellVerdict, ...]
    findings: tuple[RuleResult, ...]

    @property
    def suppressed(self) -> frozenset[tuple[int, str]]:
        """Positions of all suppressed cells."""
        return frozenset((v.row, v.column) for v in self.verdicts if v.status is Status.SUPPRESSED)

    @property
    def suppressed_count(self) -> int:
        """How many cells are suppressed."""
        return len(self.suppressed)

    def rule_counts(self) -> dict[str, int]:
        """Cells suppressed per rule: what an analyst may see."""
        return {f.rule: len(f.suppress) for f in self.findings}


def assess(table: CellTable, config: DisclosureConfig, rules: Sequence[Rule] = RULES) -> Assessment:
    """Judge every cell of ``table``: released unless some rule suppresses it."""
    findings = tuple(rule(table, config) for rule in rules)
    verdicts = []
    for cell in table:
        fired = tuple(f.rule for f in findings if cell.key in f.suppress)
        status = Status.SUPPRESSED if fired else Status.RELEASED
        verdicts.append(CellVerdict(cell.row, cell.column, status, fired))
    return Assessment(config=config, verdicts=tuple(verdicts), findings=findings)
