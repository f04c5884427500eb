"""The master key and where it comes from: a key file (default), the environment, later a KMS.

A provider hands out the 32-byte master key that wraps every data key; only a
file-backed provider can be rotated in place (``sluis keys rotate``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from connectors.store import write_private_file
from gateway.core.errors import BadInput, DependencyDown

if TYPE_CHECKING:
    from gateway.core.config import Settings

MASTER_KEY_BYTES = 32
_KEY_ID_CONTEXT = b"sluis/master-key-id/v1"


class KeyProvider(Protocol):
    """Where the master key lives; a KMS provider would unwrap a key held by the KMS."""

    name: str

    def load(self) -> bytes:
        """Return the 32-byte master key, or raise DependencyDown."""
        ...


class FileKeyProvider:
    """A key file of 32 raw bytes (or their hex or base64 text), mode 0600."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> bytes:
        """Read the key file."""
        return load_master_key(self.path)


class EnvKeyProvider:
    """The key as hex or base64 text in ``SLUIS_MASTER_KEY`` (for containers and secrets)."""

    name = "environment"

    def __init__(self, text: str) -> None:
        self._text = text

    def __repr__(self) -> str:
        return "EnvKeyProvider(<hidden>)"

    def load(self) -> bytes:
        """Decode the key from its text form."""
        key = decode_key(self._text.encode())
        if key is None:
            raise DependencyDown("SLUIS_MASTER_KEY is not a 32-byte key in hex or base64")
        return key


def provider_for(settings: Settings) -> KeyProvider:
    """The environment's key when ``SLUIS_MASTER_KEY`` is set, else the key file."""
    if settings.master_key is not None:
        return EnvKeyProvider(settings.master_key.get_secret_value())
    return FileKeyProvider(settings.key_file)


def key_id(key: bytes) -> str:
    """A public fingerprint of a master key, recorded beside what it wraps."""
    return hashlib.sha256(_KEY_ID_CONTEXT + key).hexdigest()[:16]


def decode_key(raw: bytes) -> bytes | None:
    """A 32-byte key from raw bytes, hex or base64 text; None when it is none of those."""
    if len(raw) == MASTER_KEY_BYTES:
        return raw
    text = raw.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            key = decode(text.decode("ascii"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            continue
        if len(key) == MASTER_KEY_BYTES:
            return key
    return None


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
    """Read a key file; DependencyDown when it is missing or not a 32-byte key."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DependencyDown("the master key file cannot be read; run `sluis init`") from exc
    key = decode_key(raw)
    if key is None:
        raise DependencyDown("the master key file is not a 32-byte key")
    return key


def read_new_key(path: Path) -> bytes:
    """A key offered for rotation: 32 raw bytes, or their hex or base64 text."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read the new key file {path.name}") from exc
    key = decode_key(raw)
    if key is None:
        raise BadInput("the new key file must hold a 32-byte key (raw, hex or base64)")
    return key


def write_key_file(path: Path, key: bytes) -> None:
    """Write ``key`` to ``path`` atomically (temp file, fsync, rename), mode 0600."""
    write_private_file(path, key)
