"""Disclosure-control parameters, loaded from policy obligations into a frozen, validated model."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_MIN_ENTITIES", "DisclosureConfig"]

# The safe default when a policy names no threshold (SDC handbook practice).
DEFAULT_MIN_ENTITIES = 10


class DisclosureConfig(BaseModel):
    """What a result must satisfy before release; unknown obligation keys are ignored here.

    Every field has a safe default, so a policy that names nothing still gets
    the full set of rules.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    # Threshold: distinct entities per cell.
    min_entities: int = Field(default=DEFAULT_MIN_ENTITIES, ge=1, le=10_000)
    # Dominance for sums and means: the n largest contributors hold at most k%.
    dominance_n: int = Field(default=2, ge=1, le=10)
    dominance_k: float = Field(default=85.0, gt=0, le=100)
    # p% rule: the second-largest contributor must not estimate the largest within p%.
    p_percent: float = Field(default=10.0, ge=0, le=100)
    # Base-b rounding of counts (1 = no rounding).
    rounding_base: int = Field(default=1, ge=1, le=1000)
    # Class disclosure: all entities of a group share one sensitive category.
    class_disclosure: bool = True
    # Whether a zero count in a sensitive category discloses (e.g. "nobody here").
    zeros_disclosive: bool = False
    # Secondary suppression: a primary cell's feasible interval must be at least
    # this share of its value wide (and never narrower than min_entities for counts).
    protection_percent: float = Field(default=10.0, ge=0, le=100)
    # Differencing: compare each row's entity set with cells released before.
    differencing: bool = True
    # Differential privacy: epsilon per query (None = off), the project budget,
    # and the contribution bounds the engine applies before noise is added.
    dp_epsilon: float | None = Field(default=None, gt=0, le=10)
    dp_budget: float | None = Field(default=None, gt=0, le=100)
    dp_max_groups: int = Field(default=1, ge=1, le=1000)
    dp_clip: float | None = Field(default=None, gt=0)
    # Hold the result until two reviewers approve.
    review_required: bool = False

    @classmethod
    def from_obligations(cls, obligations: Mapping[str, object]) -> DisclosureConfig:
        """Build the config from a policy decision's obligations (missing keys: defaults)."""
        present = {k: v for k, v in obligations.items() if v is not None}
        return cls.model_validate(present)
