"""Secondary suppression: complements chosen so no primary cell is recomputable from margins.

:func:`protect` chooses the pattern and audits it with the attacker's linear
program (HiGHS); :func:`audit` runs that LP on any pattern, e.g. another tool's.
"""

from anonymiser.secondary.audit import Interval, audit, protection_range
from anonymiser.secondary.suppress import SecondaryResult, protect

__all__ = ["Interval", "SecondaryResult", "audit", "protect", "protection_range"]
