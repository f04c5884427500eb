"""Cash-flow risk indicators by region and year, from customs and police data.

A lab-style analysis on the demo (`make demo`): people who declared cash at the
border, joined on the pseudonymised person key to police incidents, counted and
summed per region and year. Sluis releases only what disclosure control
allows; suppressed cells come back as NA, and every number carries the policy
revision and decision that allowed it.

    SLUIS_TOKEN=<analyst-anna's token> .venv/bin/python examples/cash_flow_risk.py
"""

from __future__ import annotations

import os
import sys

from sdk import SluisAPIError, SluisClient


def main() -> int:
    """Run the analysis and print the released table; the exit code says how it went."""
    url = os.environ.get("SLUIS_URL", "http://127.0.0.1:8000")
    token = os.environ.get("SLUIS_TOKEN", "")
    if not token:
        print("set SLUIS_TOKEN to an analyst's token (make demo prints them)", file=sys.stderr)
        return 2
    with SluisClient(url, token) as sluis:
        datasets = {d["name"]: d["id"] for d in sluis.datasets()}
        active = [p for p in sluis.projects() if p["status"] == "active"]
        if not active or not {"customs_declarations", "police_incidents"} <= set(datasets):
            print("no active project with customs and police data", file=sys.stderr)
            return 1
        spec = {
            "dataset": datasets["customs_declarations"],
            "joins": [{"dataset": datasets["police_incidents"], "on": "bsn", "alias": "police"}],
            "filters": [{"column": "cash_declared", "op": "eq", "value": True}],
            "group_by": ["region", {"column": "declaration_date", "trunc": "year"}],
            "aggregates": [
                {"fn": "count"},
                {"fn": "count_rows"},
                {"fn": "sum", "column": "declared_value_eur"},
                {"fn": "median", "column": "declared_value_eur"},
            ],
        }
        try:
            frame = sluis.query(active[0]["id"], spec)
        except SluisAPIError as exc:
            print(
                f"refused ({exc.status}): {'; '.join(exc.reasons) or exc.detail}", file=sys.stderr
            )
            return 1
    attrs = frame.attrs
    print(f"status {attrs['status']}; {attrs['suppressed']} value(s) suppressed")
    print(f"policy revision {attrs['policy_revision']}, decision {attrs['decision_id']}")
    if attrs["status"] != "released":
        print("the result waits for two reviewers (GET /api/v1/reviews)")
        return 0
    shown = frame[frame["count"].notna()].copy()
    shown["value_per_person"] = (shown["sum_declared_value_eur"] / shown["count"]).round(2)
    print(f"{len(shown)} of {len(frame)} region-years released")
    print(shown.sort_values(["region", "declaration_date_year"]).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
