"""Encrypted Parquet at rest: serialised and encrypted in memory, never in clear on disk."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from connectors.crypto import decrypt, encrypt

__all__ = ["read_encrypted_parquet", "write_encrypted_parquet"]

_COMPRESSION = "zstd"


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (where a directory can be opened at all)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_encrypted_parquet(table: pa.Table, path: Path, data_key: bytes, *, aad: bytes) -> None:
    """Write ``table`` as AES-256-GCM encrypted Parquet to ``path``, atomically.

    The ciphertext goes to a temporary file beside ``path`` (mode 0600), is
    fsynced and then renamed over ``path``; on any error the temporary file is
    removed and ``path`` is left as it was.
    """
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression=_COMPRESSION)
    write_private_file(path, encrypt(data_key, sink.getvalue().to_pybytes(), aad=aad))


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename), mode 0600.

    Readers see the old file or the new one, never a part; on any error the
    temp file is removed and ``path`` is left as it was.
    """
    temp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(8)}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def read_encrypted_parquet(path: Path, data_key: bytes, *, aad: bytes) -> pa.Table:
    """Read a table written by :func:`write_encrypted_parquet`, decrypting in memory.

    Raises DecryptionFailed on a wrong key or aad, or a tampered file.
    """
    plaintext = decrypt(data_key, path.read_bytes(), aad=aad)
    return pq.read_table(pa.BufferReader(plaintext))
