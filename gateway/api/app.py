"""The FastAPI application, built around a :class:`Runtime` (no globals: tests build their own)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from gateway.api import errors
from gateway.api.routes import audit, datasets, health, policies, projects, reviews
from gateway.services.runtime import Runtime

_LANDING = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sluis</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Sluis</h1><p>Privacy-aware data-sharing gateway. Only policy-checked, anonymised
aggregates leave this gateway.</p>
<ul><li><a href="/docs">API documentation</a></li><li><a href="/readyz">readiness</a></li></ul>
</body></html>"""


def create_app(rt: Runtime) -> FastAPI:
    app = FastAPI(title="Sluis", version="0.1.0", summary="Policy-checked, anonymised aggregates")
    app.state.runtime = rt
    errors.install(app)
    for module in (health, datasets, projects, reviews, audit, policies):
        app.include_router(module.router)

    @app.get("/", include_in_schema=False)
    def landing() -> HTMLResponse:
        return HTMLResponse(_LANDING)

    return app
