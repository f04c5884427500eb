"""State machines: every state reachable, every illegal move refused."""

from __future__ import annotations

from collections import deque
from datetime import date, timedelta

import pytest

from gateway.core.errors import Conflict
from gateway.services.lifecycle import (
    PROJECT_TRANSITIONS,
    RELEASE_INITIAL,
    RELEASE_TRANSITIONS,
    ProjectStatus,
    ReleaseStatus,
    move,
    project_status,
)


def reachable(table, starts):  # type: ignore[no-untyped-def]
    seen, todo = set(starts), deque(starts)
    while todo:
        for nxt in table[todo.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_project_state_is_covered_and_reachable() -> None:
    assert set(PROJECT_TRANSITIONS) == set(ProjectStatus)
    assert reachable(PROJECT_TRANSITIONS, [ProjectStatus.PENDING]) == set(ProjectStatus)


def test_every_release_state_is_covered_and_reachable() -> None:
    assert set(RELEASE_TRANSITIONS) == set(ReleaseStatus)
    assert reachable(RELEASE_TRANSITIONS, list(RELEASE_INITIAL)) == set(ReleaseStatus)


@pytest.mark.parametrize(
    ("table", "states"),
    [(PROJECT_TRANSITIONS, ProjectStatus), (RELEASE_TRANSITIONS, ReleaseStatus)],
)
def test_illegal_moves_are_refused(table, states) -> None:  # type: ignore[no-untyped-def]
    for current in states:
        for target in states:
            if target in table[current]:
                assert move(table, current, target) is target
            else:
                with pytest.raises(Conflict):
                    move(table, current, target)


def test_terminal_states_stay_terminal() -> None:
    for s in (ProjectStatus.EXPIRED, ProjectStatus.REVOKED):
        assert PROJECT_TRANSITIONS[s] == frozenset()
    for r in (ReleaseStatus.RELEASED, ReleaseStatus.REJECTED, ReleaseStatus.BLOCKED):
        assert RELEASE_TRANSITIONS[r] == frozenset()


@pytest.mark.parametrize(
    ("stored", "days_left", "expected"),
    [
        ("active", 1, "active"),
        ("active", 0, "active"),
        ("active", -1, "expired"),
        ("pending", -1, "expired"),
        ("revoked", -1, "revoked"),
        ("pending", 10, "pending"),
    ],
)
def test_status_in_force(stored: str, days_left: int, expected: str) -> None:
    today = date(2026, 11, 23)
    assert project_status(stored, today + timedelta(days=days_left), today) == expected
