"""Disclosure-control parameters, loaded from policy obligations into a frozen, validated model."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_MIN_ENTITIES", "DisclosureConfig"]

# The safe default when a policy names no threshold (SDC handbook practice).
DEFAULT_MIN_ENTITIES = 10


class DisclosureConfig(BaseModel):
    """What a result must satisfy before release; unknown obligation keys are ignored here."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    min_entities: int = Field(default=DEFAULT_MIN_ENTITIES, ge=1, le=10_000)
    dominance_n: int = Field(default=2, ge=1, le=10)
    dominance_k: float = Field(default=85.0, gt=0, le=100)
    p_percent: float = Field(default=10.0, ge=0, le=100)
    rounding_base: int = Field(default=1, ge=1, le=1000)
    review_required: bool = False

    @classmethod
    def from_obligations(cls, obligations: Mapping[str, object]) -> DisclosureConfig:
        """Build the config from a policy decision's obligations (missing keys: defaults)."""
        present = {k: v for k, v in obligations.items() if v is not None}
        return cls.model_validate(present)
