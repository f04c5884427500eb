"""Pydantic validation errors rendered for users, without echoing the submitted values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def describe_errors(errors: Sequence[Any], prefix: str = "") -> list[str]:
    out = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
        where = ".".join(p for p in (prefix, loc) if p)
        msg = str(err.get("msg", "invalid"))
        out.append(f"{where}: {msg}" if where else msg)
    return out
