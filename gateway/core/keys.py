"""The master key: read from ``SLUIS_MASTER_KEY_FILE`` or created (mode 0600) by ``sluis init``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from gateway.core.errors import DependencyDown

MASTER_KEY_BYTES = 32


def create_master_key(path: Path) -> bool:
    """Create the key file if missing; True when a new key was written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(MASTER_KEY_BYTES))
    return True


def load_master_key(path: Path) -> bytes:
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise DependencyDown("the master key file cannot be read; run `sluis init`") from exc
    if len(key) != MASTER_KEY_BYTES:
        raise DependencyDown("the master key file is not a 32-byte key")
    return key
