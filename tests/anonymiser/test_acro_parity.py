"""Side by side with ACRO (AI-SDC): every cell ACRO flags, Sluis suppresses too.

Both judge the same pandas data with the same parameters (threshold =
min_entities, nk = (n, k), p-ratio = p%). ACRO counts rows, Sluis distinct
entities; ACRO judges dominance per row, Sluis per entity (an entity's rows
summed); both only make Sluis stricter, so some entities here have several rows.
Values are non-negative: with negative values ACRO skips dominance and asks
for review, while Sluis judges absolute contributions (SDC handbook).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anonymiser import AggregateFn, DisclosureConfig, assess
from tests.anonymiser.test_rules_core import table_from_frame

acro = pytest.importorskip("acro")

THRESHOLD, NK_N, NK_K, P = 5, 2, 85.0, 10.0
AGGFUNCS = {
    None: AggregateFn.COUNT_ROWS,
    "sum": AggregateFn.SUM,
    "mean": AggregateFn.MEAN,
    "max": AggregateFn.MAX,
    "min": AggregateFn.MIN,
    "median": AggregateFn.MEDIAN,
}


def _data(seed: int) -> pd.DataFrame:
    """People in regions x kinds, of uneven sizes, a few heavy contributors, a few repeat rows."""
    rng = np.random.default_rng(seed)
    rows = []
    person = 0
    for region in ("N", "O", "Z", "W"):
        for kind in ("a", "b", "c"):
            for _ in range(int(rng.choice([0, 1, 2, 3, 4, 6, 8, 12, 20]))):
                amount = float(rng.integers(1, 100))
                if rng.random() < 0.1:
                    amount *= 1000  # a dominant contributor
                repeats = 2 if rng.random() < 0.15 else 1
                rows += [
                    {"person": person, "region": region, "kind": kind, "amount": amount}
                ] * repeats
                person += 1
    return pd.DataFrame(rows)


def _acro_flags(df: pd.DataFrame, aggfunc: str | None) -> pd.DataFrame:
    """ACRO's outcome table: "ok" or the names of the checks that fired, per cell."""
    session = acro.ACRO(suppress=False)
    # ACRO reads its thresholds from this dict at check time (one shared risk-appetite dict).
    session.config.update(
        safe_threshold=THRESHOLD, safe_nk_n=NK_N, safe_nk_k=NK_K / 100, safe_pratio_p=P / 100
    )
    with warnings.catch_warnings():
        # ACRO hands np.sum/np.max to pandas groupby, which pandas deprecates; ACRO's own
        # filter for it is lost under pytest's filterwarnings=error. Only this warning.
        warnings.filterwarnings(
            "ignore", message="The provided callable .* is currently using", category=FutureWarning
        )
        if aggfunc is None:
            session.crosstab(df.region, df.kind)
        else:
            session.crosstab(df.region, df.kind, values=df.amount, aggfunc=aggfunc)
    record = list(session.results.results.values())[-1]
    outcome: pd.DataFrame = record.outcome
    return outcome


@pytest.mark.parametrize("aggfunc", list(AGGFUNCS), ids=lambda a: a or "count")
@pytest.mark.parametrize("seed", range(5))
def test_every_cell_acro_flags_sluis_suppresses(
    seed: int, aggfunc: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # ACRO may write output files
    df = _data(seed)
    flags = _acro_flags(df, aggfunc)
    keys = [(str(r), str(c)) for r in flags.index for c in flags.columns]
    fn = AGGFUNCS[aggfunc]
    table = table_from_frame(
        df,
        ["region", "kind"],
        "person",
        {"v": (fn, None if fn is AggregateFn.COUNT_ROWS else "amount")},
        keys=keys,
    )
    config = DisclosureConfig(
        min_entities=THRESHOLD, dominance_n=NK_N, dominance_k=NK_K, p_percent=P
    )
    suppressed = assess(table, config).suppressed
    flagged = [
        (r, c) for r in flags.index for c in flags.columns if str(flags.loc[r, c]).strip() != "ok"
    ]
    missed = [(r, c) for r, c in flagged if (keys.index((str(r), str(c))), "v") not in suppressed]
    assert missed == [], f"ACRO flags cells Sluis releases: {missed}"
    # The comparison must mean something: ACRO flags cells and leaves others, for every seed.
    assert 0 < len(flagged) < len(keys) or aggfunc in ("max", "min")


def test_the_comparison_would_notice_a_missing_rule() -> None:
    # Without dominance rules Sluis would miss what ACRO flags on the same data.
    df = _data(3)
    flags = _acro_flags(df, "sum")
    assert any("NKCheck" in str(v) for v in flags.to_numpy().ravel())
