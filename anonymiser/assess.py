"""Run every disclosure rule over a cell table and combine their findings into verdicts.

Order: the primary rules (:data:`anonymiser.rules.RULES`), then rounding of
the released counts (suppressing a margin its rounded parts would pin), then
the output scan. Secondary suppression runs outside
(it needs the primary set) and comes back through :meth:`Assessment.with_secondary`,
which redoes rounding and scan for the new released set.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from anonymiser.cells import CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.rounding import round_cells, tight_margins
from anonymiser.rules import RULES, Rule
from anonymiser.scan import ScanFinding, scan_table
from anonymiser.verdict import CellVerdict, RuleResult, Status

__all__ = ["OUTPUT_SCAN", "ROUNDING", "Assessment", "assess"]

# The rule name under which a scan hit suppresses the whole table.
OUTPUT_SCAN = "output_scan"
# The rule name of margins suppressed because rounding would pin them (see anonymiser.rounding).
ROUNDING = "rounding"

logger = logging.getLogger(__name__)

_EMPTY: Mapping[tuple[int, str], int] = MappingProxyType({})


@dataclass(frozen=True)
class Assessment:
    """Verdicts for every cell of a table plus each rule's own finding.

    ``primary`` holds the cells the primary rules suppress (what secondary
    suppression must protect); ``rounded`` the rounded value of each released
    count when the config asks for rounding; ``scan`` the output-scan
    findings, any of which blocks the whole table.
    """

    config: DisclosureConfig
    verdicts: tuple[CellVerdict, ...]
    findings: tuple[RuleResult, ...]
    table: CellTable | None = None
    primary: frozenset[tuple[int, str]] = frozenset()
    rounded: Mapping[tuple[int, str], int] = field(default_factory=lambda: _EMPTY)
    scan: tuple[ScanFinding, ...] = ()

    @property
    def suppressed(self) -> frozenset[tuple[int, str]]:
        """Positions of all suppressed cells."""
        return frozenset((v.row, v.column) for v in self.verdicts if v.status is Status.SUPPRESSED)

    @property
    def suppressed_count(self) -> int:
        """How many cells are suppressed."""
        return len(self.suppressed)

    @property
    def released(self) -> frozenset[tuple[int, str]]:
        """Positions of all released cells (a blocked table releases none of them)."""
        return frozenset((v.row, v.column) for v in self.verdicts if v.status is Status.RELEASED)

    @property
    def blocked(self) -> bool:
        """Whether the output scan found an identifier: then nothing may be shown, labels included.

        Every cell is then suppressed under ``output_scan`` too; the gateway must
        also withhold the group keys (a row's label is shown even when its
        cells are suppressed).
        """
        return bool(self.scan)

    def rule_counts(self) -> dict[str, int]:
        """Cells suppressed per rule: what an analyst may see."""
        return {f.rule: len(f.suppress) for f in self.findings}

    def released_values(self) -> dict[tuple[int, str], float | int]:
        """The value to show per released cell, rounded where rounding applies.

        Empty when the table is blocked by the scan or was assessed without its
        table. Suppressed cells are absent: the gateway shows them as null and
        never has to re-apply a rule.
        """
        if self.blocked or self.table is None:
            return {}
        out: dict[tuple[int, str], float | int] = {}
        released = self.released
        for cell in self.table:
            if cell.key in released and cell.value is not None:
                out[cell.key] = self.rounded.get(cell.key, cell.value)
        return out

    def with_secondary(
        self, cells: Iterable[tuple[int, str]], rule: str = "secondary"
    ) -> Assessment:
        """A new assessment with ``cells`` also suppressed under ``rule``.

        Rounding and the output scan are redone for the smaller released set;
        ``primary`` stays as it was. Raises ValueError when a position is not
        a cell of the table (names no value).
        """
        extra = frozenset(cells)
        known = {(v.row, v.column) for v in self.verdicts}
        if not extra <= known:
            raise ValueError(f"rule {rule!r} names a cell outside the table")
        findings = (*self.findings, RuleResult(rule, extra, f"{len(extra)} cell(s) {rule}"))
        return _finish(self, findings)


def _verdicts(
    cells: Iterable[tuple[int, str]], findings: Sequence[RuleResult]
) -> tuple[CellVerdict, ...]:
    fired: dict[tuple[int, str], list[str]] = {}
    for finding in findings:  # in rule order, so each cell lists its rules in that order
        for key in finding.suppress:
            fired.setdefault(key, []).append(finding.rule)
    out = []
    for row, column in cells:
        rules = fired.get((row, column))
        if rules:
            out.append(CellVerdict(row, column, Status.SUPPRESSED, tuple(rules)))
        else:
            out.append(CellVerdict(row, column, Status.RELEASED))
    return tuple(out)


def _finish(assessment: Assessment, findings: tuple[RuleResult, ...]) -> Assessment:
    """Verdicts from ``findings``, then round the released counts and scan what would show.

    A scan hit adds the finding ``output_scan`` on every cell, so even a caller
    that only reads ``suppressed`` releases nothing from a blocked table.
    """
    findings = tuple(f for f in findings if f.rule not in (OUTPUT_SCAN, ROUNDING))
    positions = [(v.row, v.column) for v in assessment.verdicts]
    verdicts = _verdicts(positions, findings)
    table = assessment.table
    if table is None:
        return replace(assessment, verdicts=verdicts, findings=findings)
    base = assessment.config.rounding_base
    released = {(v.row, v.column) for v in verdicts if v.status is Status.RELEASED}
    rounded = round_cells(table, released, base)
    tight = tight_margins(table, rounded, base)
    if tight:
        findings = (
            *findings,
            RuleResult(ROUNDING, tight, f"{len(tight)} margin(s) pinned by rounding"),
        )
        verdicts = _verdicts(positions, findings)
        released -= tight
        rounded = {k: v for k, v in rounded.items() if k not in tight}
    shown = {c.key: rounded.get(c.key, c.value) for c in table if c.key in released}
    try:
        scan = scan_table(table, shown)
    except Exception as exc:  # a scan that cannot finish must block, not wave through
        logger.error("output scan failed (%s); table blocked", type(exc).__name__)
        scan = (ScanFinding("table", None, "", "scan_failed"),)
    if scan:
        blocked = RuleResult(OUTPUT_SCAN, frozenset(positions), "all cells: identifier in output")
        findings = (*findings, blocked)
        verdicts = _verdicts(positions, findings)
        rounded = {}
    return replace(
        assessment,
        verdicts=verdicts,
        findings=findings,
        rounded=MappingProxyType(dict(rounded)),
        scan=scan,
    )


def _run(rule: Rule, table: CellTable, config: DisclosureConfig) -> RuleResult:
    """Run one rule; if it fails, it suppresses every cell (a bug must not release data)."""
    try:
        return rule(table, config)
    except Exception as exc:  # any failure means: suppress everything
        name = getattr(rule, "__name__", "rule")
        # The exception type only: its message or traceback could quote a data value.
        logger.error(
            "disclosure rule %s failed (%s); all cells suppressed", name, type(exc).__name__
        )
        return RuleResult(name, frozenset(c.key for c in table), f"{name} failed: all suppressed")


def assess(table: CellTable, config: DisclosureConfig, rules: Sequence[Rule] = RULES) -> Assessment:
    """Judge every cell of ``table``: released unless some rule suppresses it.

    Then round the released counts (``rounding_base`` > 1) and scan labels
    and released values for identifiers.
    """
    findings = tuple(_run(rule, table, config) for rule in rules)
    blank = tuple(CellVerdict(c.row, c.column, Status.RELEASED) for c in table)
    primary = frozenset(k for f in findings for k in f.suppress)
    assessment = Assessment(config, blank, (), table=table, primary=primary)
    return _finish(assessment, findings)
