"""The one place that maps the error tree to HTTP; no response ever echoes submitted values."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.core.errors import NotAuthenticated, PolicyDenied, SluisError
from gateway.services.validation import describe_errors

log = structlog.get_logger("sluis.api")


def _json(status: int, detail: object, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


async def _sluis_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SluisError)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, NotAuthenticated) else None
    detail = exc.detail
    if isinstance(exc, PolicyDenied) and exc.decision_id:
        detail = {"reasons": exc.reasons, "decision_id": exc.decision_id}
    log.info(
        "request refused", path=request.url.path, status=exc.status_code, error=type(exc).__name__
    )
    return _json(exc.status_code, detail, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Pydantic puts the offending input in each error; it may be data, so drop it.
    return _json(422, describe_errors(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _json(exc.status_code, exc.detail, getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", path=request.url.path, error=type(exc).__name__)
    return _json(500, "internal error; the incident is logged without request data")


def install(app: FastAPI) -> None:
    app.add_exception_handler(SluisError, _sluis_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
