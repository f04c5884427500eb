"""Differential privacy: OpenDP noise on bounded cell values, and the project's budget ledger.

The query engine bounds every entity's influence before any noise: each entity
is kept in at most ``dp_max_groups`` (L) rows per grouping set and its per-cell
contribution to sums (and its rows, for row counts) is clipped to
``[-dp_clip, dp_clip]`` (U); the bounded value arrives in ``CellStats.dp_value``.
With G grouping sets in the table (detail rows, each margin pattern), one
entity changes a column's vector of values by at most L*G (counts) or L*G*U
(sums, row counts) in L1 norm, and Laplace noise with scale sensitivity/epsilon
makes that column epsilon-DP. The query's epsilon is split evenly over the
noised columns (sequential composition); rows of one column share one
measurement (the L1 sensitivity covers all of them).

What is not noised is reported as such, and must be suppressed:

- order statistics (min, max, median, quantiles): an entity's own value; no
  mechanism here releases them;
- sums, means and row counts without ``dp_clip``: their sensitivity is unbounded;
- means unless every entity was kept (``max_cells_per_entity <= dp_max_groups``):
  the engine reports the bounded mean, and its denominator is the cell's entity
  count only when no entity was dropped; the mean is then noisy sum / noisy count;
- a cell whose bounded value is missing or not finite.

Group keys and the number of rows are not noised: the other disclosure rules
still apply to them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import opendp.prelude as dp

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.verdict import RuleResult

__all__ = [
    "RULE_NAME",
    "BudgetExhausted",
    "Charge",
    "DpResult",
    "PrivacyLedger",
    "apply_dp",
]

RULE_NAME: Final = "differential_privacy"

# OpenDP ships mechanisms whose proofs have not finished its vetting process
# behind the "contrib" flag; the Laplace mechanisms used here are among them.
dp.enable_features("contrib")

_COUNT_SPACE: Final = (dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64"))
_REAL_SPACE: Final = (
    dp.vector_domain(dp.atom_domain(T=float, nan=False)),
    dp.l1_distance(T=float),
)
_TOLERANCE: Final = 1e-9  # float slack when comparing epsilons
_LARGEST: Final = 2.0**53


@dataclass(frozen=True)
class DpResult:
    """Noised values per cell, the epsilon they cost, and what could not be noised.

    ``values`` maps ``(row, column)`` to the noised value; ``scales`` gives each
    noised column's Laplace scale (for a mean: of its sum; its count's is
    ``scales[column + ".count"]``) and ``epsilon_by_column`` its share of the
    budget; ``not_noised`` are cells that must be suppressed, with a reason per
    column (no values in it).
    """

    values: Mapping[tuple[int, str], float | int]
    epsilon_spent: float
    epsilon_by_column: Mapping[str, float]
    scales: Mapping[str, float]
    not_noised: frozenset[tuple[int, str]]
    reasons: Mapping[str, str] = field(default_factory=dict)

    def rule_result(self) -> RuleResult:
        """The cells that could not be noised, as a suppression finding."""
        summary = (
            f"{len(self.values)} cell(s) noised for epsilon {self.epsilon_spent:.6g}; "
            f"{len(self.not_noised)} cell(s) could not be noised"
        )
        return RuleResult(RULE_NAME, self.not_noised, summary)


def _grouping_sets(table: CellTable) -> int:
    """How many grouping sets (detail and margin patterns) the rows come from."""
    return max(1, len({tuple(v is TOTAL for v in key) for key in table.keys}))


def _laplace(
    space: tuple[dp.Domain, dp.Metric], sensitivity: float, epsilon: float
) -> tuple[dp.Measurement, float, float]:
    """A Laplace measurement for ``epsilon``, with its scale and the epsilon OpenDP proves."""
    d_in: float | int = int(sensitivity) if space is _COUNT_SPACE else float(sensitivity)
    scale = sensitivity / epsilon
    # OpenDP rounds its privacy map conservatively: nudge the scale up until
    # the proven epsilon does not exceed the share (a few ulps at most).
    for _ in range(64):
        measurement = dp.m.make_laplace(*space, scale=scale)
        proven = float(measurement.map(d_in))  # type: ignore[no-untyped-call]  # unannotated
        if proven <= epsilon:
            return measurement, scale, proven
        scale = math.nextafter(scale, math.inf) * (1 + 1e-12)
    raise RuntimeError("could not calibrate the Laplace scale")  # pragma: no cover


def _finite(value: float | None) -> bool:
    # Also within the exact range of floats, so counts convert to integers safely.
    return value is not None and math.isfinite(value) and abs(value) < _LARGEST


def _column_fn(cells: Sequence[CellStats]) -> AggregateFn | None:
    fns = {c.fn for c in cells}
    return fns.pop() if len(fns) == 1 else None


def _plan(
    table: CellTable, config: DisclosureConfig, by_column: Mapping[str, list[CellStats]]
) -> tuple[dict[str, AggregateFn], dict[str, str]]:
    """Which columns get noise and why the others do not (decided without looking at values)."""
    noised: dict[str, AggregateFn] = {}
    reasons: dict[str, str] = {}
    all_kept = (
        table.max_cells_per_entity is not None
        and table.max_cells_per_entity <= config.dp_max_groups
    )
    for column, cells in by_column.items():
        fn = _column_fn(cells)
        if not cells:  # nothing to noise, nothing to spend on
            continue
        if fn is None:
            reasons[column] = "mixed aggregate functions in one column"
        elif fn.is_order_statistic:
            reasons[column] = f"{fn.value} is an order statistic: not released under DP"
        elif fn is not AggregateFn.COUNT and config.dp_clip is None:
            reasons[column] = f"{fn.value} needs dp_clip to bound each entity's contribution"
        elif fn is AggregateFn.MEAN and not all_kept:
            reasons[column] = "mean needs every entity kept within dp_max_groups"
        elif fn in (AggregateFn.COUNT, AggregateFn.COUNT_ROWS, AggregateFn.SUM, AggregateFn.MEAN):
            noised[column] = fn
        else:  # pragma: no cover - every AggregateFn is handled above
            reasons[column] = f"{fn.value} has no DP mechanism here"
    return noised, reasons


def apply_dp(table: CellTable, config: DisclosureConfig) -> DpResult:
    """Noise every cell that can be noised under ``config.dp_epsilon``; report the rest.

    Raises ValueError when the config asks for no differential privacy.
    """
    if config.dp_epsilon is None:
        raise ValueError("differential privacy is off: dp_epsilon is not set")
    by_column: dict[str, list[CellStats]] = {c: [] for c in table.value_columns}
    for cell in table.cells:
        by_column[cell.column].append(cell)
    noised, reasons = _plan(table, config, by_column)
    not_noised = {c.key for column in reasons for c in by_column[column]}
    share = config.dp_epsilon / len(noised) if noised else 0.0
    reach = config.dp_max_groups * _grouping_sets(table)  # rows one entity can touch
    clip = config.dp_clip or 0.0
    values: dict[tuple[int, str], float | int] = {}
    epsilons: dict[str, float] = {}
    scales: dict[str, float] = {}
    for column, fn in noised.items():
        cells = by_column[column]
        usable = [_finite(c.dp_value) for c in cells]
        not_noised |= {c.key for c, ok in zip(cells, usable, strict=True) if not ok}
        bounded = [
            c.dp_value if ok and c.dp_value is not None else 0.0
            for c, ok in zip(cells, usable, strict=True)
        ]
        if fn is AggregateFn.COUNT:
            measurement, scales[column], epsilons[column] = _laplace(_COUNT_SPACE, reach, share)
            noisy: list[float] = [max(0, v) for v in measurement([round(b) for b in bounded])]
        elif fn is AggregateFn.COUNT_ROWS:
            measurement, scales[column], epsilons[column] = _laplace(
                _REAL_SPACE, reach * clip, share
            )
            noisy = [max(0, round(v)) for v in measurement([float(b) for b in bounded])]
        elif fn is AggregateFn.SUM:
            measurement, scales[column], epsilons[column] = _laplace(
                _REAL_SPACE, reach * clip, share
            )
            noisy = list(measurement([float(b) for b in bounded]))
        else:  # MEAN: noisy sum / noisy count, half the share each
            sums, scales[column], spent_sum = _laplace(_REAL_SPACE, reach * clip, share / 2)
            counts, scales[column + ".count"], spent_count = _laplace(
                _COUNT_SPACE, reach, share / 2
            )
            epsilons[column] = spent_sum + spent_count
            entities = [c.entities if ok else 0 for c, ok in zip(cells, usable, strict=True)]
            noisy_sums = sums([float(b * n) for b, n in zip(bounded, entities, strict=True)])
            noisy_counts = counts([int(n) for n in entities])
            # Post-processing: a mean of values clipped to [-U, U] lies in [-U, U].
            noisy = [
                min(clip, max(-clip, s / max(1, k)))
                for s, k in zip(noisy_sums, noisy_counts, strict=True)
            ]
        for cell, ok, value in zip(cells, usable, noisy, strict=True):
            if ok:
                values[cell.key] = value
    return DpResult(
        values=values,
        epsilon_spent=math.fsum(epsilons.values()),
        epsilon_by_column=epsilons,
        scales=scales,
        not_noised=frozenset(not_noised),
        reasons=reasons,
    )


# --- The budget ledger ----------------------------------------------------------------------


class BudgetExhausted(Exception):
    """A query would spend more epsilon than the project has left."""

    def __init__(self, requested: float, remaining: float, budget: float) -> None:
        self.requested = requested
        self.remaining = remaining
        self.budget = budget
        super().__init__(
            f"privacy budget exhausted: this query needs epsilon {requested:.6g}, "
            f"remaining {remaining:.6g} of {budget:.6g}"
        )


@dataclass(frozen=True)
class Charge:
    """One query's spending."""

    query_id: str
    epsilon: float


@dataclass(frozen=True)
class PrivacyLedger:
    """A project's privacy budget and what has been spent; pure (the gateway persists it)."""

    budget: float
    charges: tuple[Charge, ...] = ()

    def __post_init__(self) -> None:
        """Reject a nonsensical budget or spending."""
        if not (math.isfinite(self.budget) and self.budget > 0):
            raise ValueError("privacy budget must be a positive number")
        for charge in self.charges:
            if not (math.isfinite(charge.epsilon) and charge.epsilon > 0) or not charge.query_id:
                raise ValueError("every charge needs a query id and a positive epsilon")
        if len({c.query_id for c in self.charges}) != len(self.charges):
            raise ValueError("a query is charged at most once")

    @property
    def spent(self) -> float:
        """Epsilon spent so far (basic sequential composition)."""
        return math.fsum(c.epsilon for c in self.charges)

    @property
    def remaining(self) -> float:
        """Epsilon left; never negative."""
        return max(0.0, self.budget - self.spent)

    def can_charge(self, epsilon: float) -> bool:
        """Whether a query of ``epsilon`` fits in what is left."""
        return epsilon <= self.remaining + _TOLERANCE

    def check(self, epsilon: float) -> None:
        """Raise :class:`BudgetExhausted` (stating the remaining budget) unless ``epsilon`` fits.

        For the gateway to deny a query before it runs.
        """
        if not self.can_charge(epsilon):
            raise BudgetExhausted(epsilon, self.remaining, self.budget)

    def charge(self, query_id: str, epsilon: float) -> PrivacyLedger:
        """The ledger after charging ``epsilon`` for ``query_id``.

        Raises :class:`BudgetExhausted` (stating the remaining budget) when it
        does not fit, and ValueError for a repeated query id or a bad epsilon.
        """
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ValueError("epsilon must be a positive number")
        if any(c.query_id == query_id for c in self.charges):
            raise ValueError("this query has been charged already")
        self.check(epsilon)
        return PrivacyLedger(self.budget, (*self.charges, Charge(query_id, epsilon)))

    def to_json(self) -> str:
        """The ledger as JSON (budget and charges, in order)."""
        charges = [{"query_id": c.query_id, "epsilon": c.epsilon} for c in self.charges]
        return json.dumps({"version": 1, "budget": self.budget, "charges": charges})

    @classmethod
    def from_json(cls, text: str) -> PrivacyLedger:
        """Read :meth:`to_json` output; raises ValueError when malformed."""
        try:
            data = json.loads(text)
            if data.get("version") != 1:
                raise ValueError("unknown ledger version")
            charges = tuple(
                Charge(str(c["query_id"]), float(c["epsilon"])) for c in data["charges"]
            )
            return cls(float(data["budget"]), charges)
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError("malformed privacy ledger") from exc
