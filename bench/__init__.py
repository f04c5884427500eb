"""Sluis benchmarks: `make bench` (python -m bench). Figures are printed as ratios
against a raw baseline measured in the same run; nothing here asserts a time."""
