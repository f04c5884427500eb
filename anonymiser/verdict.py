"""The output of disclosure control: a typed verdict per cell."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CellVerdict", "RuleResult", "Status"]


class Status(StrEnum):
    """Whether a cell may leave the gateway."""

    RELEASED = "released"
    SUPPRESSED = "suppressed"


@dataclass(frozen=True)
class RuleResult:
    """What one disclosure rule found: the cells it suppresses, and a summary without values."""

    rule: str
    suppress: frozenset[tuple[int, str]]
    summary: str


@dataclass(frozen=True)
class CellVerdict:
    """The verdict on one cell, with the rules that fired on it (empty when released)."""

    row: int
    column: str
    status: Status
    rules: tuple[str, ...] = ()
