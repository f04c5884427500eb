"""A Python client for the Sluis API that returns pandas DataFrames.

    from sdk import SluisClient
    sluis = SluisClient("http://127.0.0.1:8000", token)
    df = sluis.query(project_id, {"dataset": ds, "group_by": ["region"],
                                  "aggregates": [{"fn": "count"}]})
    df.attrs["suppressed"], df.attrs["policy_revision"]

Suppressed cells arrive as ``pd.NA``. Every result carries, in ``df.attrs``, the
query id, status, decision id, policy revision, the number of suppressed values
and the analyst's view of the disclosure report: the trail back to the legal
basis that allowed the numbers.
"""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd

__all__ = ["SluisAPIError", "SluisClient"]


class SluisAPIError(Exception):
    """The API refused a call; ``status`` is the HTTP status, ``detail`` its explanation."""

    def __init__(self, status: int, detail: object) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"HTTP {status}: {detail}")

    @property
    def reasons(self) -> list[str]:
        """A policy denial's reasons (empty for other errors)."""
        if isinstance(self.detail, dict):
            return [str(r) for r in self.detail.get("reasons", [])]
        return []


class SluisClient:
    """One user's session with a Sluis gateway (token from ``sluis user token``)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        token: str = "",
        *,
        timeout_s: float = 300.0,
        http: httpx.Client | None = None,
    ) -> None:
        # ``http`` lets a caller bring its own client (proxies, TLS settings, tests).
        self._http = http or httpx.Client(base_url=base_url, timeout=timeout_s)
        self._headers = {"Authorization": f"Bearer {token}"}

    def __enter__(self) -> SluisClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, headers=self._headers, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise SluisAPIError(response.status_code, detail)
        return response

    def datasets(self) -> list[dict[str, Any]]:
        """Datasets visible to the caller (metadata only)."""
        result: list[dict[str, Any]] = self._call("GET", "/api/v1/datasets").json()
        return result

    def projects(self) -> list[dict[str, Any]]:
        """Projects the caller can see."""
        result: list[dict[str, Any]] = self._call("GET", "/api/v1/projects").json()
        return result

    def query(self, project_id: str, spec: dict[str, Any]) -> pd.DataFrame:
        """Run a query spec in a project; the released cells as a DataFrame."""
        body = self._call("POST", f"/api/v1/projects/{project_id}/queries", json=spec).json()
        return to_frame(body)

    def result(self, project_id: str, query_id: str) -> pd.DataFrame:
        """An earlier query's result (e.g. once reviewers released it)."""
        body = self._call("GET", f"/api/v1/projects/{project_id}/queries/{query_id}").json()
        return to_frame(body)

    def export(self, project_id: str, query_id: str, fmt: str = "csv") -> bytes:
        """A released result as CSV, XLSX or Parquet bytes."""
        path = f"/api/v1/projects/{project_id}/queries/{query_id}/export"
        return self._call("GET", path, params={"format": fmt}).content

    def chart(self, project_id: str, query_id: str) -> dict[str, Any]:
        """A Vega-Lite spec of a released result."""
        path = f"/api/v1/projects/{project_id}/queries/{query_id}/chart"
        spec: dict[str, Any] = self._call("GET", path).json()
        return spec


def to_frame(body: dict[str, Any]) -> pd.DataFrame:
    """A query body as a DataFrame: suppressed values as NA, provenance in ``attrs``."""
    frame = pd.DataFrame(body.get("rows", []), columns=body["columns"], dtype=object)
    frame = frame.convert_dtypes() if len(frame) else frame
    frame.attrs.update(
        {
            "query_id": body["query_id"],
            "status": body["status"],
            "decision_id": body["decision_id"],
            "policy_revision": body["policy_revision"],
            "suppressed": body["suppressed"],
            "group_columns": body.get("group_columns", []),
            "disclosure": body.get("disclosure", {}),
        }
    )
    return frame
