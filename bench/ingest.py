"""Ingest throughput next to raw pyarrow CSV-to-Parquet, and peak RSS of a large ingest.

One run generates a CSV (BSN, category, amount with a decimal comma, date;
``--mb`` sets its size), times raw pyarrow (``open_csv`` + ``ParquetWriter``)
and then the whole Sluis pipeline (parse, validate, detect, pseudonymise,
encrypt, write Parquet) on the same file, each in a child process, and prints
the throughput ratio (target >= 0.5x) and each child's peak RSS. ``--peak-gb``
additionally ingests a CSV of that size and reports its peak RSS (target <= 1 GiB
for 5 GB); generating it takes minutes, so it is off by default.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

CATEGORIES = ["Delft", "Utrecht", "Zwolle", "Assen", "Breda", "Leiden", "Venlo", "Hoorn"]
_ROWS_PER_CHUNK = 500_000
_PERSONS = 2_000_000


def _valid_bsns(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random BSNs that pass the eleven-test, as 9-digit strings."""
    out: list[np.ndarray] = []
    while sum(len(x) for x in out) < n:
        first = rng.integers(10_000_000, 99_999_999, size=n)
        digits = np.stack([(first // 10**p) % 10 for p in range(7, -1, -1)], axis=1)
        check = (digits * np.arange(9, 1, -1)).sum(axis=1) % 11
        ok = check < 10
        out.append(first[ok] * 10 + check[ok])
    return np.concatenate(out)[:n].astype("U9")


def generate_csv(path: Path, megabytes: float, seed: int = 7) -> int:
    """Write a semicolon CSV of about ``megabytes`` MB; return its row count."""
    rng = np.random.default_rng(seed)
    persons = _valid_bsns(rng, _PERSONS)
    target = int(megabytes * 1_000_000)
    start = dt.date(2020, 1, 1).toordinal()
    rows = 0
    with path.open("wb") as out:
        out.write(b"bsn;categorie;bedrag;datum\n")
        while out.tell() < target:
            n = _ROWS_PER_CHUNK
            bsn = persons[rng.integers(0, _PERSONS, size=n)]
            cat = np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), size=n)]
            cents = rng.integers(0, 1_000_000, size=n)
            amount = np.char.add(
                np.char.add((cents // 100).astype("U7"), ","),
                (np.char.zfill((cents % 100).astype("U2"), 2)),
            )
            days = rng.integers(0, 4 * 365, size=n)
            dates = pa.array(days + start - dt.date(1970, 1, 1).toordinal(), type=pa.int32())
            table = pa.table(
                {
                    "bsn": pa.array(bsn),
                    "categorie": pa.array(cat),
                    "bedrag": pa.array(amount),
                    "datum": dates.cast(pa.date32()).cast(pa.string()),
                }
            )
            pa_csv.write_csv(
                table,
                out,
                write_options=pa_csv.WriteOptions(
                    include_header=False, delimiter=";", quoting_style="none"
                ),
            )
            rows += n
    return rows


def raw_arrow(csv_path: Path, out_path: Path) -> int:
    """The baseline: pyarrow's streaming CSV reader straight into a Parquet writer."""
    reader = pa_csv.open_csv(
        csv_path,
        read_options=pa_csv.ReadOptions(block_size=4 << 20),
        parse_options=pa_csv.ParseOptions(delimiter=";"),
    )
    rows = 0
    with pq.ParquetWriter(out_path, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def sluis_pipeline(csv_path: Path, out_path: Path) -> int:
    """The whole Sluis ingest of the file."""
    from connectors.pipeline import ingest_file
    from connectors.schema import DatasetMeta

    meta = DatasetMeta.model_validate(
        {
            "name": "bench",
            "legal_basis": "wpg-art22",
            "entity_columns": ["bsn"],
            "columns": {
                "bsn": "identifier",
                "categorie": "category",
                "bedrag": "measure",
                "datum": "date",
            },
            "retention_until": dt.date.today() + dt.timedelta(days=365),
        }
    )
    result = ingest_file(
        csv_path, "bench.csv", meta, master_key=os.urandom(32), out_path=out_path, aad=b"bench"
    )
    return result.rows


def _own_peak_rss() -> int:
    """This process's peak RSS in bytes (-1 if unknown).

    VmHWM counts this process's own memory only; ru_maxrss of a child started
    with vfork also counts the parent's pages up to exec (the parent holds the
    generated data), so it is the fallback only.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return -1


def _child(kind: str, csv_path: Path, out_path: Path) -> tuple[float, int, int]:
    """Run one side in a fresh process: (seconds, rows, peak RSS bytes of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.ingest", "--child", kind, str(csv_path), str(out_path)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    rows, peak = (int(x) for x in done.stdout.strip().splitlines()[-1].split())
    if peak < 0:
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        # ru_maxrss of children is the max over all of them: report it only when it grew.
        peak = peak_kib * 1024 if peak_kib > before else -1
    return seconds, rows, peak


def rekey_seconds(n: int = 1_000_000) -> float:
    """Time re-keying ``n`` distinct stage-1 pseudonyms to a project scope."""
    from connectors.pseudonym import rekey_to_project

    values = pa.array([f"{i:032x}" for i in range(n)])
    started = time.perf_counter()
    rekey_to_project(values, os.urandom(32), "bench")
    return time.perf_counter() - started


def _mib(n: int) -> str:
    return "n/a (below an earlier child)" if n < 0 else f"{n / 2**20:.0f} MiB"


def run(mb: float = 1000.0, peak_gb: float = 0.0, workdir: Path | None = None) -> dict[str, float]:
    """Generate, time both sides, print the figures; returns them as a dict."""
    with tempfile.TemporaryDirectory(prefix="sluis-bench-", dir=workdir) as tmp:
        base = Path(tmp)
        csv_path = base / "bench.csv"
        started = time.perf_counter()
        rows = generate_csv(csv_path, mb)
        size = csv_path.stat().st_size
        print(
            f"ingest: generated {size / 1e6:.0f} MB CSV, {rows:,} rows "
            f"in {time.perf_counter() - started:.1f} s"
        )
        # The pipeline runs first so its peak RSS is not masked by the baseline's.
        t_sluis, rows_sluis, rss_sluis = _child("sluis", csv_path, base / "sluis.enc")
        t_raw, rows_raw, rss_raw = _child("raw", csv_path, base / "raw.parquet")
        ratio = t_raw / t_sluis
        print(
            f"  raw pyarrow CSV->Parquet : {t_raw:6.1f} s  {size / 1e6 / t_raw:6.0f} MB/s  "
            f"({rows_raw:,} rows, peak RSS {_mib(rss_raw)})"
        )
        print(
            f"  Sluis pipeline           : {t_sluis:6.1f} s  {size / 1e6 / t_sluis:6.0f} MB/s  "
            f"({rows_sluis:,} rows, peak RSS {_mib(rss_sluis)})"
        )
        print(f"  throughput ratio Sluis/raw: {ratio:.2f}x (target >= 0.5x)")
        figures = {
            "mb": size / 1e6,
            "raw_s": t_raw,
            "sluis_s": t_sluis,
            "ratio": ratio,
            "sluis_peak_rss_mib": rss_sluis / 2**20,
        }
        figures["rekey_1m_s"] = rekey_seconds()
        print(
            f"  re-key 1,000,000 distinct pseudonyms to a project scope: "
            f"{figures['rekey_1m_s']:.2f} s"
        )
        for path in base.glob("*.enc"):
            path.unlink()
        if peak_gb > 0:
            csv_path.unlink()
            started = time.perf_counter()
            generate_csv(csv_path, peak_gb * 1000)
            big = csv_path.stat().st_size
            print(f"  generated {big / 1e9:.1f} GB CSV in {time.perf_counter() - started:.0f} s")
            t_big, _rows, rss_big = _child("sluis", csv_path, base / "big.enc")
            print(
                f"  Sluis pipeline on {big / 1e9:.1f} GB: {t_big:.0f} s, "
                f"peak RSS {_mib(rss_big)} (target <= 1024 MiB)"
            )
            figures["peak_gb"] = big / 1e9
            figures["peak_rss_mib"] = rss_big / 2**20
        else:
            print("  (peak RSS on a 5 GB CSV: run with --peak-gb 5; generating it takes minutes)")
        return figures


def main() -> None:
    """Command line: ``python -m bench.ingest [--mb N] [--peak-gb G]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--mb", type=float, default=1000.0, help="size of the timed CSV in MB")
    parser.add_argument("--peak-gb", type=float, default=0.0, help="also ingest a CSV this big")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, csv_path, out_path = args.child
        side = sluis_pipeline if kind == "sluis" else raw_arrow
        rows = side(Path(csv_path), Path(out_path))
        print(rows, _own_peak_rss())
        return
    run(mb=args.mb, peak_gb=args.peak_gb)


if __name__ == "__main__":
    main()
