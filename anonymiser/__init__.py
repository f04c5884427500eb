"""Statistical disclosure control for Sluis: per-cell statistics in, typed verdicts out.

A library with no web dependency: the gateway's query engine computes a
:class:`CellTable` for every result, :func:`assess` judges each cell under a
:class:`DisclosureConfig`, and the gateway releases only what the verdicts allow.
"""

from anonymiser.assess import Assessment, assess
from anonymiser.cells import AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.verdict import CellVerdict, RuleResult, Status

__all__ = [
    "AggregateFn",
    "Assessment",
    "CellStats",
    "CellTable",
    "CellVerdict",
    "DisclosureConfig",
    "RuleResult",
    "Status",
    "assess",
]
