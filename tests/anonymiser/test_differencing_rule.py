"""The differencing rule: rows a few entities away from a released or sibling row are suppressed."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anonymiser import AggregateFn, CellStats, CellTable, DisclosureConfig
from anonymiser.differencing import (
    RULE_NAME,
    EntitySketch,
    SketchArrays,
    check_differencing,
    differencing_rule,
    find_differencing,
)

PEOPLE = [f"p{i:04d}" for i in range(400)]


def sk(people: list[str] | set[str]) -> EntitySketch:
    return EntitySketch.from_entities(people)


def table(sketches: list[object]) -> CellTable:
    rows = len(sketches)
    cells = tuple(
        CellStats(r, fn.value, fn, 1, 20) for r in range(rows) for fn in (AggregateFn.COUNT,)
    ) + tuple(CellStats(r, "sum", AggregateFn.SUM, 5.0, 20) for r in range(rows))
    return CellTable(
        ("g",),
        ("count", "sum"),
        tuple((f"k{r}",) for r in range(rows)),
        cells,
        sketches=tuple(sketches),
    )


@pytest.mark.parametrize(
    ("removed", "flagged"),
    [(0, False), (1, True), (5, True), (9, True), (10, False), (11, False), (150, False)],
)
def test_released_set_minus_some_people(removed: int, flagged: bool) -> None:
    released = [sk(PEOPLE[:200])]
    new = [sk(PEOPLE[removed:200])]
    assert (find_differencing(new, released, 10) == {0}) is flagged


@pytest.mark.parametrize(("added", "dropped"), [(1, 1), (3, 6), (0, 9), (9, 0), (5, 5)])
def test_both_sides_of_the_difference_count(added: int, dropped: int) -> None:
    released = [sk(PEOPLE[100:200])]
    new = [sk(PEOPLE[100 - added : 200 - dropped])]
    assert find_differencing(new, released, 10) == (
        {0} if 0 < added + dropped < 10 else frozenset()
    )


def test_only_the_close_row_is_flagged_among_many() -> None:
    released = [sk(PEOPLE[i : i + 30]) for i in range(0, 300, 30)]
    new = [sk(PEOPLE[i : i + 30]) for i in range(0, 300, 30)]
    new[4] = sk(PEOPLE[121:150])  # the released PEOPLE[120:150] minus one person
    new[7] = sk(PEOPLE[200:240])  # ten more than PEOPLE[210:240]: far enough
    assert find_differencing(new, released, 10) == {4}


def test_missing_sketch_is_flagged_when_there_is_history() -> None:
    released = [sk(PEOPLE[:50])]
    assert find_differencing([None, sk(PEOPLE[100:200])], released, 10) == {0}
    assert find_differencing([None, None], [], 10) == frozenset()
    # Nothing released, but a sibling to compare with: in doubt, suppress.
    assert find_differencing([None, sk(PEOPLE[:50])], [], 10) == {0}


def test_malformed_or_difference_sketches_are_never_trusted() -> None:
    new = [sk(PEOPLE[:50]), sk(PEOPLE[100:200])]
    assert find_differencing(new, [b"junk"], 10) == {0, 1}
    negative = sk(PEOPLE[:5]).subtract(sk(PEOPLE[:50]))
    assert find_differencing(new, [negative], 10) == {0, 1}
    assert find_differencing([negative, sk(PEOPLE[:50])], [sk(PEOPLE[300:])], 10) == {0}


def test_min_entities_one_flags_nothing() -> None:
    assert find_differencing([sk(PEOPLE[1:50])], [sk(PEOPLE[:50])], 1) == frozenset()


def test_margin_next_to_one_part_suppresses_the_margin() -> None:
    # Rows: two groups and their total; group b has 3 people, so the total
    # minus group a discloses group b.
    a, b = PEOPLE[:40], PEOPLE[40:43]
    new = [sk(a), sk(b), sk(a + b)]
    assert find_differencing(new, [], 10) == {2}


def test_rows_below_the_threshold_are_left_to_it() -> None:
    # The 6-person row falls to the threshold rule (all its cells): it is never
    # released, so the 12-person row and the released set may stay.
    new = [sk(PEOPLE[:12]), sk(PEOPLE[:6])]
    assert find_differencing(new, [], 10) == frozenset()
    assert find_differencing(new, [sk(PEOPLE[200:300])], 10) == frozenset()
    # A released set close to the large row still counts, whatever its size.
    assert find_differencing(new, [sk(PEOPLE[:7])], 10) == {0}


def test_disjoint_groups_of_one_table_pass() -> None:
    new = [sk(PEOPLE[i : i + 12]) for i in range(0, 120, 12)]
    assert find_differencing(new, [], 10) == frozenset()


def test_a_pair_inside_the_table_loses_one_row_not_both() -> None:
    new = [sk(PEOPLE[:30]), sk(PEOPLE[2:30]), sk(PEOPLE[100:130])]
    assert find_differencing(new, [], 10) == {0}
    # With history, a row close to a released set goes regardless.
    assert find_differencing(new, [sk(PEOPLE[1:30])], 10) == {0, 1}


def test_bytes_and_arrays_are_accepted_for_history() -> None:
    released = [sk(PEOPLE[:60]), sk(PEOPLE[200:300])]
    new = [sk(PEOPLE[:59]), sk(PEOPLE[300:400])]
    as_bytes = [s.to_bytes() for s in released]
    assert find_differencing(new, as_bytes, 10) == {0}
    assert find_differencing(new, SketchArrays.parse(as_bytes), 10) == {0}


def test_rule_suppresses_every_cell_of_a_flagged_row() -> None:
    released = [sk(PEOPLE[:60])]
    t = table([sk(PEOPLE[1:60]), sk(PEOPLE[100:200]).to_bytes(), b"junk"])
    result = check_differencing(t, released, DisclosureConfig())
    assert result.rule == RULE_NAME
    assert result.suppress == {(0, "count"), (0, "sum"), (2, "count"), (2, "sum")}
    assert "2 of 3 rows" in result.summary


def test_rule_without_sketches_suppresses_when_history_exists() -> None:
    t = CellTable(
        ("g",), ("count",), (("a",),), (CellStats(0, "count", AggregateFn.COUNT, 50, 50),)
    )
    assert check_differencing(t, [sk(PEOPLE[:60])], DisclosureConfig()).suppress == {(0, "count")}
    assert not check_differencing(t, [], DisclosureConfig()).suppress


def test_rule_off_by_policy() -> None:
    t = table([sk(PEOPLE[1:60])])
    rule = differencing_rule([sk(PEOPLE[:60])])
    assert rule(t, DisclosureConfig()).suppress
    assert not rule(t, DisclosureConfig(differencing=False)).suppress


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[set[str]], set[str], int]:
    pool = PEOPLE[:120]
    released = draw(st.lists(st.sets(st.sampled_from(pool), max_size=60), max_size=6))
    base = draw(st.sampled_from(released)) if released and draw(st.booleans()) else set()
    flips = draw(st.sets(st.sampled_from(pool), max_size=15))
    return released, base ^ flips, draw(st.integers(2, 20))


@settings(max_examples=100, deadline=None)
@given(histories())
def test_every_close_pair_is_caught(history: tuple[list[set[str]], set[str], int]) -> None:
    released, new, m = history
    closest = [len(new ^ r) for r in released]
    flagged = find_differencing([sk(new)], [sk(r) for r in released], m) == {0}
    if len(new) >= m and any(0 < d < m for d in closest):
        assert flagged
    elif len(new) < m or all(d >= 200 or d == 0 for d in closest):
        assert not flagged


@st.composite
def tables_with_history(draw: st.DrawFn) -> tuple[list[set[str]], list[set[str]], int]:
    m = draw(st.integers(2, 12))
    pool = PEOPLE[:40]
    sets = st.sets(st.sampled_from(pool), min_size=m, max_size=30)
    # Variations of a few base sets make close pairs likely.
    bases = draw(st.lists(sets, min_size=1, max_size=3))
    variant = st.builds(
        lambda base, flips: base ^ flips,
        st.sampled_from(bases),
        st.sets(st.sampled_from(pool), max_size=m + 2),
    ).filter(lambda s: len(s) >= m)
    return draw(st.lists(variant, max_size=4)), draw(st.lists(variant, max_size=8)), m


@settings(max_examples=100, deadline=None)
@given(tables_with_history())
def test_what_stays_released_has_no_close_pair(
    case: tuple[list[set[str]], list[set[str]], int],
) -> None:
    released, new, m = case
    flagged = find_differencing([sk(s) for s in new], [sk(r) for r in released], m)
    kept = [s for i, s in enumerate(new) if i not in flagged]
    for a in kept:
        assert all(not 0 < len(a ^ r) < m for r in released)
        assert all(not 0 < len(a ^ b) < m for b in kept)
    # And nothing is flagged without a reason.
    for i in flagged:
        others = [*released, *(s for j, s in enumerate(new) if j != i)]
        assert any(0 < len(new[i] ^ o) < m for o in others)


@pytest.mark.slow
def test_thousand_rows_against_ten_thousand_released_in_about_a_second() -> None:
    rng = random.Random(1)

    def random_keys() -> list[int]:
        return [rng.getrandbits(60) for _ in range(rng.randint(20, 120))]

    history = [random_keys() for _ in range(10_000)]
    released = SketchArrays.parse([EntitySketch.from_keys(k) for k in history])
    new = [EntitySketch.from_keys(random_keys()) for _ in range(1000)]
    new[0] = EntitySketch.from_keys(history[17])  # the same set again: nothing new
    new[1] = EntitySketch.from_keys(history[42][1:])  # one person filtered out
    start = time.perf_counter()
    flagged = find_differencing(new, released, 10)
    elapsed = time.perf_counter() - start
    assert flagged == {1}
    assert elapsed < 3.0  # about 0.2 s measured; generous for a shared 2-core machine
