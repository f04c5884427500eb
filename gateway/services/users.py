"""Organisations, users and their API tokens."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, Conflict, NotAuthenticated, NotFound
from gateway.core.security import hash_token, new_token
from gateway.models import ApiToken, Organisation, User
from gateway.services.runtime import Runtime

ROLES = ("steward", "analyst", "privacy_officer", "admin")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


def _check_name(kind: str, name: str) -> str:
    if not _NAME.match(name):
        raise BadInput(f"{kind} must be 1-64 letters, digits, '.', '_' or '-'")
    return name


def add_org(rt: Runtime, ctx: AuditContext, name: str) -> Organisation:
    _check_name("organisation name", name)
    with rt.write() as s:
        if s.scalars(select(Organisation).where(Organisation.name == name)).first():
            raise Conflict(f"organisation {name} already exists")
        org = Organisation(name=name)
        s.add(org)
        s.flush()
        append(s, ctx, "org.add", f"org:{name}")
    return org


def org_by_name(s: Session, name: str) -> Organisation:
    org = s.scalars(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        raise NotFound(f"no organisation {name}; add it with `sluis org add`")
    return org


def add_user(rt: Runtime, ctx: AuditContext, username: str, org: str, role: str) -> str:
    """Create a user; returns their first API token (shown once, stored as a hash)."""
    _check_name("username", username)
    if role not in ROLES:
        raise BadInput(f"role must be one of {', '.join(ROLES)}")
    with rt.write() as s:
        if s.scalars(select(User).where(User.username == username)).first():
            raise Conflict(f"user {username} already exists")
        user = User(username=username, org_id=org_by_name(s, org).id, role=role)
        s.add(user)
        s.flush()
        append(s, ctx, "user.add", f"user:{username}", details={"org": org, "role": role})
        return _issue_token(s, ctx, user)


def issue_token(rt: Runtime, ctx: AuditContext, username: str) -> str:
    with rt.write() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound(f"no user {username}")
        return _issue_token(s, ctx, user)


def _issue_token(s: Session, ctx: AuditContext, user: User) -> str:
    token = new_token()
    s.add(ApiToken(user_id=user.id, token_hash=hash_token(token)))
    append(s, ctx, "token.issue", f"user:{user.username}")
    return token


def authenticate(s: Session, token: str) -> User:
    """The active user a bearer token belongs to, else :class:`NotAuthenticated`."""
    row = s.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), ApiToken.revoked.is_(False)
        )
    ).first()
    if row is None or not row.user.active:
        raise NotAuthenticated("invalid or revoked token")
    return row.user


def user_by_name(s: Session, username: str) -> User:
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise BadInput(f"no user named {username}")
    return user
