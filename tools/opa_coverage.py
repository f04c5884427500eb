"""Fail when `opa test --coverage` reports less than the floor for the policy set.

Usage: opa test --coverage --format=json policies | python tools/opa_coverage.py 90
"""

import json
import sys

floor = float(sys.argv[1])
report = json.load(sys.stdin)
covered = float(report.get("coverage", 0.0))
print(f"opa policy coverage: {covered:.1f}% (floor {floor:.0f}%)")
if covered < floor:
    for name, file in sorted(report.get("files", {}).items()):
        print(f"  {name}: {file.get('coverage', 0.0):.1f}%")
    sys.exit(1)
