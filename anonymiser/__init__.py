"""Statistical disclosure control for Sluis: per-cell statistics in, typed verdicts out.

A library with no web dependency: the gateway's query engine computes a
:class:`CellTable` for every result, :func:`assess` judges each cell under a
:class:`DisclosureConfig`, and the gateway releases only what the verdicts allow.
"""

from anonymiser.assess import OUTPUT_SCAN, Assessment, assess
from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.report import analyst_report, reviewer_report
from anonymiser.rounding import round_value
from anonymiser.rules import RULES, Rule
from anonymiser.scan import ScanFinding, find_identifiers, scan_table
from anonymiser.verdict import CellVerdict, RuleResult, Status

# Secondary suppression, differencing and differential privacy exports are added by their modules.
__all__ = [
    "OUTPUT_SCAN",
    "RULES",
    "TOTAL",
    "AggregateFn",
    "Assessment",
    "CellStats",
    "CellTable",
    "CellVerdict",
    "DisclosureConfig",
    "Rule",
    "RuleResult",
    "ScanFinding",
    "Status",
    "analyst_report",
    "assess",
    "find_identifiers",
    "reviewer_report",
    "round_value",
    "scan_table",
]
