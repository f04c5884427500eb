"""Run every benchmark and print its figures (each next to its raw baseline, same run).

``make bench`` runs them all at the sizes the issues name; pass smaller sizes to
try things quickly (``python -m bench --rows 1000000 --ingest-mb 100``).
"""

from __future__ import annotations

import argparse

from bench import ingest, policy_decisions, query_engine, query_latency, secondary_suppression


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="rows behind the end-to-end API query"
    )
    parser.add_argument("--repeats", type=int, default=10, help="timed API queries")
    parser.add_argument("--decisions", type=int, default=3000, help="timed policy decisions")
    parser.add_argument(
        "--engine-rows",
        type=int,
        nargs="+",
        default=[1_000_000, 10_000_000],
        help="sizes of the engine scaling curve (add 100000000 for the 100M point)",
    )
    parser.add_argument("--spark-rows", type=int, default=1_000_000, help="0 skips Spark")
    parser.add_argument("--ingest-mb", type=float, default=1000.0, help="CSV size to ingest")
    parser.add_argument("--peak-gb", type=float, default=0.0, help="also ingest a CSV this big")
    parser.add_argument(
        "--only", nargs="+", help="run only these: decisions query engine secondary ingest"
    )
    args = parser.parse_args()
    chosen = set(args.only or ["decisions", "query", "engine", "secondary", "ingest"])
    if "decisions" in chosen:
        policy_decisions.run(n=args.decisions)
        print()
    if "query" in chosen:
        query_latency.run(rows=args.rows, repeats=args.repeats)
        print()
    if "engine" in chosen:
        query_engine.run(sizes=args.engine_rows, spark_rows=args.spark_rows or None)
        print()
    if "secondary" in chosen:
        secondary_suppression.run()
        print()
    if "ingest" in chosen:
        ingest.run(mb=args.ingest_mb, peak_gb=args.peak_gb)


if __name__ == "__main__":
    main()
