"""A dataset column as the query engine sees it: name, storage type and declared role."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a dataset version's schema."""

    name: str
    type: str
    role: str
