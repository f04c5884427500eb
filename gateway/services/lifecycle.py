"""State machines as tables: the project lifecycle and the release workflow."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TypeVar

from gateway.core.errors import Conflict

S = TypeVar("S", bound=StrEnum)


class ProjectStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ReleaseStatus(StrEnum):
    RELEASED = "released"
    HELD_FOR_REVIEW = "held_for_review"
    REJECTED = "rejected"
    # The output scan found something identifier-like: never released, not reviewable.
    BLOCKED = "blocked"


PROJECT_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.PENDING: frozenset(
        {ProjectStatus.ACTIVE, ProjectStatus.EXPIRED, ProjectStatus.REVOKED}
    ),
    ProjectStatus.ACTIVE: frozenset({ProjectStatus.EXPIRED, ProjectStatus.REVOKED}),
    ProjectStatus.EXPIRED: frozenset(),
    ProjectStatus.REVOKED: frozenset(),
}

RELEASE_TRANSITIONS: dict[ReleaseStatus, frozenset[ReleaseStatus]] = {
    ReleaseStatus.HELD_FOR_REVIEW: frozenset({ReleaseStatus.RELEASED, ReleaseStatus.REJECTED}),
    ReleaseStatus.RELEASED: frozenset(),
    ReleaseStatus.REJECTED: frozenset(),
    ReleaseStatus.BLOCKED: frozenset(),
}

# A result starts in one of these: released at once, held when policy asks for review,
# or blocked when the output scan finds an identifier in it.
RELEASE_INITIAL = frozenset(
    {ReleaseStatus.RELEASED, ReleaseStatus.HELD_FOR_REVIEW, ReleaseStatus.BLOCKED}
)


def move(table: dict[S, frozenset[S]], current: S, target: S) -> S:
    """Return ``target`` if the table allows the move, else raise :class:`Conflict`."""
    if target not in table[current]:
        raise Conflict(f"cannot go from {current} to {target}")
    return target


def project_status(stored: str, expires_at: date, today: date) -> ProjectStatus:
    """The status in force today: a project past its end date is expired, whatever was stored."""
    status = ProjectStatus(stored)
    if expires_at < today and ProjectStatus.EXPIRED in PROJECT_TRANSITIONS[status]:
        return ProjectStatus.EXPIRED
    return status
