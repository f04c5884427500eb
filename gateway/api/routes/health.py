"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.deps import RuntimeDep
from gateway.core.db import ping
from gateway.core.errors import DependencyDown

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(rt: RuntimeDep) -> JSONResponse:
    checks = {"database": "ok", "opa": "ok"}
    try:
        ping(rt.db_url)
    except DependencyDown:
        checks["database"] = "down"
    if rt.policy is None or not rt.policy.healthy():
        checks["opa"] = "down"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", **checks}, status_code=200 if ready else 503
    )
