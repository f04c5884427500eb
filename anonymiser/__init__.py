"""Statistical disclosure control for Sluis: per-cell statistics in, typed verdicts out.

A library with no web dependency: the gateway's query engine computes a
:class:`CellTable` for every result, :func:`assess` judges each cell under a
:class:`DisclosureConfig`, and the gateway releases only what the verdicts allow.
"""

from anonymiser.assess import OUTPUT_SCAN, Assessment, assess
from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.differencing import (
    EntitySketch,
    check_differencing,
    differencing_rule,
    find_differencing,
)
from anonymiser.dp import BudgetExhausted, DpResult, PrivacyLedger, apply_dp
from anonymiser.report import analyst_report, reviewer_report
from anonymiser.rounding import round_value
from anonymiser.rules import RULES, Rule
from anonymiser.scan import ScanFinding, find_identifiers, scan_table
from anonymiser.secondary import Interval, SecondaryResult, audit, protect, protection_range
from anonymiser.verdict import CellVerdict, RuleResult, Status

__all__ = [
    "OUTPUT_SCAN",
    "RULES",
    "TOTAL",
    "AggregateFn",
    "Assessment",
    "BudgetExhausted",
    "CellStats",
    "CellTable",
    "CellVerdict",
    "DisclosureConfig",
    "DpResult",
    "EntitySketch",
    "Interval",
    "PrivacyLedger",
    "Rule",
    "RuleResult",
    "ScanFinding",
    "SecondaryResult",
    "Status",
    "analyst_report",
    "apply_dp",
    "assess",
    "audit",
    "check_differencing",
    "differencing_rule",
    "find_differencing",
    "find_identifiers",
    "protect",
    "protection_range",
    "reviewer_report",
    "round_value",
    "scan_table",
]
