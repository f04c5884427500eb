"""Envelope encryption for data at rest: AES-256-GCM data keys wrapped under a master key.

Blob layout, for wrapped keys and ciphertexts alike: version byte, 12-byte nonce, ciphertext+tag.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "KEY_BYTES",
    "KEY_WRAP_PURPOSE",
    "DecryptionFailed",
    "decrypt",
    "derive_key",
    "encrypt",
    "generate_data_key",
    "unwrap_key",
    "wrap_key",
]

KEY_BYTES = 32
KEY_WRAP_PURPOSE = "sluis/key-wrap/v1"
_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
_MIN_MASTER_KEY_BYTES = 16


class DecryptionFailed(Exception):
    """A blob could not be decrypted: wrong key, wrong associated data, or tampered."""


def derive_key(master_key: bytes, purpose: str) -> bytes:
    """Derive a 32-byte key for ``purpose`` from the master key (HKDF-SHA256, info=purpose)."""
    if len(master_key) < _MIN_MASTER_KEY_BYTES:
        raise ValueError(f"master key must be at least {_MIN_MASTER_KEY_BYTES} bytes")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
    return hkdf.derive(master_key)


def generate_data_key() -> bytes:
    """Return a fresh random 32-byte data key."""
    return os.urandom(KEY_BYTES)


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")
    nonce = os.urandom(_NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")
    if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES or blob[:1] != _VERSION:
        raise DecryptionFailed("not an encrypted blob of a known version")
    nonce, ciphertext = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)
    except InvalidTag:
        raise DecryptionFailed("wrong key, wrong associated data, or tampered data") from None


def wrap_key(master_key: bytes, data_key: bytes, *, aad: bytes) -> bytes:
    """Encrypt a data key under a key derived from the master key, bound to ``aad``."""
    return _seal(derive_key(master_key, KEY_WRAP_PURPOSE), data_key, aad)


def unwrap_key(master_key: bytes, wrapped: bytes, *, aad: bytes) -> bytes:
    """Recover a data key from :func:`wrap_key` output; DecryptionFailed if it does not verify."""
    return _open(derive_key(master_key, KEY_WRAP_PURPOSE), wrapped, aad)


def encrypt(data_key: bytes, plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext`` with a 32-byte data key, bound to ``aad``."""
    return _seal(data_key, plaintext, aad)


def decrypt(data_key: bytes, blob: bytes, *, aad: bytes) -> bytes:
    """Decrypt :func:`encrypt` output; DecryptionFailed on a wrong key or aad, or tampering."""
    return _open(data_key, blob, aad)
