"""Attacks by subtraction: a planted person must not be recoverable from two released cells.

A small in-memory "engine" computes each query's cells and entity sketches;
the project keeps the sketches of released rows, as the gateway does, and
every query runs through assess() with the threshold and differencing rules.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig, Status, assess
from anonymiser.differencing import EntitySketch, differencing_rule
from anonymiser.rules import min_entities

CONFIG = DisclosureConfig(min_entities=10)


@dataclass(frozen=True)
class Person:
    pid: str
    age: int
    city: str
    income: int


def population(seed: int = 1) -> list[Person]:
    rng = random.Random(seed)
    people = [
        Person(
            f"{rng.getrandbits(64):016x}", rng.randint(20, 70), rng.choice("AB"), rng.randint(1, 9)
        )
        for _ in range(600)
    ]
    # The target: the only 41-year-old in city A, with an income nobody else has.
    people = [p for p in people if not (p.city == "A" and p.age in (30, 41))]
    return [*people, Person("target", 41, "A", 1000)]


@dataclass
class Project:
    people: list[Person]
    released: list[EntitySketch] = field(default_factory=list)

    def query(self, where: Callable[[Person], bool], by: str | None = None) -> dict[object, int]:
        """Count and sum of income per group; returns the released sums only."""
        chosen = [p for p in self.people if where(p)]
        groups = sorted({getattr(p, by) for p in chosen}) if by else ["all"]
        members = [[p for p in chosen if not by or getattr(p, by) == g] for g in groups]
        cells = []
        for r, rows in enumerate(members):
            cells.append(CellStats(r, "n", AggregateFn.COUNT, len(rows), len(rows)))
            cells.append(
                CellStats(r, "income", AggregateFn.SUM, sum(p.income for p in rows), len(rows))
            )
        sketches = tuple(EntitySketch.from_entities(p.pid for p in rows) for rows in members)
        table = CellTable(
            ("g",), ("n", "income"), tuple((g,) for g in groups), tuple(cells), sketches=sketches
        )
        verdict = assess(table, CONFIG, (min_entities, differencing_rule(self.released)))
        sums = {c.row: c.value for c in cells if c.column == "income"}
        out: dict[object, int] = {}
        for v in verdict.verdicts:
            if v.status is Status.RELEASED and v.column == "income":
                out[groups[v.row]] = int(sums[v.row] or 0)
        released_rows = {v.row for v in verdict.verdicts if v.status is Status.RELEASED}
        self.released.extend(sketches[r] for r in sorted(released_rows))
        return out


def test_differencing_pair_one_person_filtered_out() -> None:
    project = Project(population())
    total = project.query(lambda p: p.city == "A")
    assert "all" in total
    # The same group with the target filtered out: the difference would be their income.
    without = project.query(lambda p: p.city == "A" and p.pid != "target")
    assert without == {}


def test_shifted_filters_isolating_few_people_are_flagged() -> None:
    people = population()
    # City A has three 30-year-olds and the target as its only 41-year-old.
    people += [Person(f"thirty{i}", 30, "A", 5) for i in range(3)]
    project = Project(people)
    assert "all" in project.query(lambda p: p.city == "A" and 30 <= p.age <= 40)
    # Shift the window by one year: three people leave, the target joins.
    assert project.query(lambda p: p.city == "A" and 31 <= p.age <= 41) == {}
    # Widening instead adds only the target: flagged as well.
    assert project.query(lambda p: p.city == "A" and 30 <= p.age <= 41) == {}


def test_shifted_windows_over_a_broad_population_pass() -> None:
    project = Project(population())
    releases = [
        project.query(lambda p, lo=lo: 20 + lo <= p.age < 40 + lo) for lo in range(0, 20, 5)
    ]
    # Each five-year shift moves far more than ten people in and out.
    assert all("all" in r for r in releases)


def test_pair_differing_by_exactly_min_entities_is_released() -> None:
    people = [Person(f"x{i}", 50, "B", 1) for i in range(60)]
    project = Project(people)
    assert "all" in project.query(lambda p: True)
    ten_fewer = {f"x{i}" for i in range(10)}
    assert "all" in project.query(lambda p: p.pid not in ten_fewer)
    nine_fewer = {f"x{i}" for i in range(9)}
    assert project.query(lambda p: p.pid not in nine_fewer) == {}


def test_no_two_released_sums_isolate_the_target() -> None:
    """Run the whole attack series; no pair of released sums differs by the target alone."""
    project = Project(population())
    queries: list[Callable[[Person], bool]] = [
        lambda p: p.city == "A",
        lambda p: p.city == "A" and p.pid != "target",
        lambda p: p.city == "A" and p.age != 41,
        lambda p: p.city == "A" and p.age <= 40,
        lambda p: p.city == "A" and p.age >= 41,
        lambda p: p.city == "A" and p.income < 1000,
    ]
    sums = [r["all"] for q in queries if "all" in (r := project.query(q))]
    target = 1000
    assert not any(a - b == target for a in sums for b in sums)


def test_margin_table_does_not_leak_a_small_group() -> None:
    people = [Person(f"y{i}", 30, "A", 2) for i in range(40)] + [Person("z", 30, "B", 999)]
    project = Project(people)
    by_city = project.query(lambda p: True, by="city")
    assert "B" not in by_city  # one person: threshold
    total = project.query(lambda p: True)
    assert total == {}  # total minus the released city A would be person z
