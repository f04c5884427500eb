"""Secondary suppression on count tables with margins: time, information loss, and ACRO beside it.

Tables are 2-D and 3-D counts with every margin (all subsets of dimensions
summed), cell counts Poisson around a product of skewed (log-normal) category
weights, so a realistic share of cells falls under the threshold. Primary cells
are those under ``min_entities`` (10); :func:`anonymiser.secondary.protect`
chooses complements and audits them with the LP. ACRO (PyPI ``acro``) flags cells
on the same microdata with its threshold rule and has no secondary suppression;
its pattern goes through the same LP audit to count how many of its suppressed
cells an attacker recovers exactly from its released cells and margins.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import itertools
import logging
import time
import warnings

import numpy as np
import numpy.typing as npt

from anonymiser.cells import TOTAL, AggregateFn, CellStats, CellTable
from anonymiser.config import DisclosureConfig
from anonymiser.secondary import audit, protect

CONFIG = DisclosureConfig(min_entities=10, protection_percent=10.0)
# (label, shape): about 1k, 10k and 100k cells once margins are added.
SHAPES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("2-D 1k", (31, 31)),
    ("3-D 1k", (9, 9, 9)),
    ("2-D 10k", (99, 99)),
    ("3-D 10k", (21, 21, 21)),
    ("2-D 100k", (315, 315)),
    ("3-D 30k", (30, 30, 30)),
)
# 3-D at 100k cells takes minutes (one large, degenerate LP per audit round): opt-in.
FULL_SHAPES = (*SHAPES, ("3-D 100k", (45, 45, 45)))
# ACRO works on microdata (one row per person): the large tables take minutes.
ACRO_MAX_CELLS = 20_000


def interior_counts(shape: tuple[int, ...], seed: int = 0) -> npt.NDArray[np.int64]:
    """Counts per interior cell: at least 1 (a group-by has no empty groups), skewed sizes."""
    rng = np.random.default_rng(seed)
    mean = np.ones(shape)
    for d, size in enumerate(shape):
        w = rng.lognormal(0.0, 0.7, size)
        mean = mean * (w / w.mean()).reshape([size if i == d else 1 for i in range(len(shape))])
    return 1 + rng.poisson(mean * 30.0)


def with_margins(counts: npt.NDArray[np.int64]) -> CellTable:
    """The table with every margin: a key of TOTAL where a dimension is summed over."""
    dims = counts.ndim
    keys: list[tuple[object, ...]] = []
    cells: list[CellStats] = []
    for summed in itertools.product((False, True), repeat=dims):
        axes = tuple(d for d in range(dims) if summed[d])
        part = counts.sum(axis=axes, keepdims=True) if axes else counts
        for idx in np.ndindex(*part.shape):
            key = tuple(TOTAL if summed[d] else f"c{idx[d]}" for d in range(dims))
            v = int(part[idx])
            cells.append(CellStats(len(keys), "n", AggregateFn.COUNT, v, v))
            keys.append(key)
    names = tuple(f"g{d}" for d in range(dims))
    return CellTable(names, ("n",), tuple(keys), tuple(cells))


def primary_cells(table: CellTable) -> frozenset[tuple[int, str]]:
    """Cells under the threshold (the min_entities rule)."""
    return frozenset(c.key for c in table if c.entities < CONFIG.min_entities)


def acro_release(
    counts: npt.NDArray[np.int64], table: CellTable
) -> tuple[CellTable, frozenset[tuple[int, str]]]:
    """ACRO's crosstab (margins on, suppression on) as a table, and the cells it suppresses.

    For 3-D, pandas' margins are the grand row and the last-dimension column only
    (no subtotals), so ACRO's table holds fewer relations than Sluis's.
    """
    import pandas as pd
    from acro import ACRO

    dims = counts.ndim
    idx = np.repeat(np.arange(counts.size), counts.ravel())
    coords = np.unravel_index(idx, counts.shape)
    df = pd.DataFrame({f"g{d}": np.char.add("c", coords[d].astype(str)) for d in range(dims)})
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.disable(logging.INFO)
        try:
            session = ACRO(suppress=True)
            index = [df[f"g{d}"] for d in range(dims - 1)]
            out = session.crosstab(
                index if dims > 2 else index[0], df[f"g{dims - 1}"], margins=True
            )
        finally:
            logging.disable(logging.NOTSET)
    shown: dict[tuple[object, ...], bool] = {}
    for label, row in out.iterrows():
        labels = label if isinstance(label, tuple) else (label,)
        if "All" in labels:
            # pandas puts one row-margin for all index levels: TOTAL everywhere there.
            labels = tuple(TOTAL for _ in labels)
        for col_label, value in row.items():
            shown[(*labels, TOTAL if col_label == "All" else col_label)] = not pd.isna(value)
    keys = [k for k in table.keys if k in shown]
    value_of = {table.keys[c.row]: c.value for c in table}
    cells = tuple(
        CellStats(i, "n", AggregateFn.COUNT, value_of[k], int(value_of[k] or 0))
        for i, k in enumerate(keys)
    )
    sub = CellTable(table.group_columns, ("n",), tuple(keys), cells)
    hidden = frozenset((i, "n") for i, k in enumerate(keys) if not shown[k])
    return sub, hidden


def run(shapes: tuple[tuple[str, tuple[int, ...]], ...] = SHAPES, acro: bool = True) -> None:
    """Print every figure, one per line."""
    print("secondary suppression (count tables with all margins, threshold 10, 10% range)")
    if shapes is SHAPES:
        print("3-D 100k: skipped by default (minutes); run with --full")
    for label, shape in shapes:
        counts = interior_counts(shape)
        table = with_margins(counts)
        primary = primary_cells(table)
        n = len(table)
        t0 = time.perf_counter()
        result = protect(table, primary, CONFIG)
        elapsed = time.perf_counter() - t0
        n_sec = len(result.complementary)
        print(f"{label}: cells {n}")
        print(
            f"{label}: protect+audit seconds {elapsed:.3f} "
            f"(choose {result.choose_seconds:.3f}, audit {result.audit_seconds:.3f})"
        )
        print(f"{label}: audit passed {result.passed}")
        print(f"{label}: primary share {len(primary) / n:.1%} ({len(primary)} cells)")
        print(f"{label}: secondary share {n_sec / n:.1%} ({n_sec} cells)")
        print(f"{label}: Sluis suppressed share {(len(primary) + n_sec) / n:.1%}")
        if not acro:
            continue
        if n > ACRO_MAX_CELLS:
            print(f"{label}: ACRO skipped (over {ACRO_MAX_CELLS} cells: too slow on microdata)")
            continue
        acro_table, hidden = acro_release(counts, table)
        # Witness rounds first; every cell they cannot move gets its exact min and max.
        ivs = audit(acro_table, hidden, CONFIG, exact=False)
        exact = sum(1 for iv in ivs if iv.hi - iv.lo < 1e-6)
        narrow = sum(1 for iv in ivs if not iv.protected)
        share = len(hidden) / len(acro_table)
        print(f"{label}: ACRO table cells {len(acro_table)} (its margins: pandas crosstab)")
        print(f"{label}: ACRO suppressed share {share:.1%} ({len(hidden)} cells)")
        print(f"{label}: ACRO suppressed cells recoverable exactly {exact} of {len(hidden)}")
        print(
            f"{label}: ACRO suppressed cells narrower than the protection range "
            f"{narrow} of {len(hidden)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.secondary_suppression")
    parser.add_argument("--no-acro", action="store_true", help="skip the ACRO comparison")
    parser.add_argument("--full", action="store_true", help="add the 3-D 100k-cell table")
    args = parser.parse_args()
    run(FULL_SHAPES if args.full else SHAPES, acro=not args.no_acro)


if __name__ == "__main__":
    main()
