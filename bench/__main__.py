"""Run every benchmark and print its figures."""

from __future__ import annotations

import argparse

from bench import query_latency


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the benchmark dataset")
    parser.add_argument("--repeats", type=int, default=30, help="timed repetitions per figure")
    args = parser.parse_args()
    query_latency.run(rows=args.rows, repeats=args.repeats)


if __name__ == "__main__":
    main()
