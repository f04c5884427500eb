"""API tokens: random, shown once, stored only as SHA-256.

Tokens carry 256 bits of entropy, so a slow password hash adds nothing;
passwords, when added, use argon2.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "sluis_"  # noqa: S105 - a marker, not a secret


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
