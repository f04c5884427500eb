"""Every /api/v1 route refuses callers without a valid token."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.factories import auth


def api_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every documented /api/v1 operation, with path parameters filled in."""
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "x", path))
        for path, ops in paths.items()
        if path.startswith("/api/v1")
        for method in ops
    ]


@pytest.mark.parametrize(
    "header", [None, "Bearer sluis_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "]
)
def test_every_api_route_needs_a_valid_token(client: TestClient, header: str | None) -> None:
    routes = api_routes(client)
    assert len(routes) >= 12  # the CONTRACT.md endpoints are all mounted
    headers = {"Authorization": header} if header else {}
    for method, path in routes:
        r = client.request(method, path, headers=headers)
        assert r.status_code == 401, (method, path, r.status_code)
        assert "detail" in r.json()


def test_health_needs_no_token(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["opa"] == "ok"


def test_token_is_stored_only_as_hash(client: TestClient) -> None:
    from gateway.services import users
    from tests.factories import CTX

    rt = client.app.state.runtime  # type: ignore[attr-defined]
    users.add_org(rt, CTX, "politie")
    token = users.add_user(rt, CTX, "someone", "politie", "steward")
    assert client.get("/api/v1/datasets", headers=auth(token)).status_code == 200
    from sqlalchemy import select

    from gateway.models import ApiToken

    with rt.read() as s:
        stored = s.scalars(select(ApiToken.token_hash)).all()
    assert stored and token not in stored and all(len(h) == 64 for h in stored)
