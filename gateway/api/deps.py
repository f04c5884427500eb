"""Typed dependencies: a route's signature says what it needs (runtime, caller, audit context)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gateway.audit.log import AuditContext
from gateway.core.errors import NotAuthenticated
from gateway.models import User
from gateway.services.runtime import Runtime
from gateway.services.users import authenticate

_bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def current_user(
    rt: RuntimeDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise NotAuthenticated("send Authorization: Bearer TOKEN")
    with rt.read() as s:
        return authenticate(s, creds.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def audit_context(request: Request, user: CurrentUser) -> AuditContext:
    request_id = request.headers.get("x-request-id", "")[:64] or uuid.uuid4().hex
    return AuditContext(actor=user.username, request_id=request_id)


AuditCtx = Annotated[AuditContext, Depends(audit_context)]
