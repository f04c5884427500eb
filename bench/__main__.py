"""Run every benchmark and print its figures."""

from __future__ import annotations

import argparse

from bench import policy_decisions, query_latency


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="rows in the benchmark dataset")
    parser.add_argument("--repeats", type=int, default=30, help="timed repetitions per figure")
    parser.add_argument("--decisions", type=int, default=2000, help="timed policy decisions")
    args = parser.parse_args()
    query_latency.run(rows=args.rows, repeats=args.repeats)
    print()
    policy_decisions.run(n=args.decisions)


if __name__ == "__main__":
    main()
