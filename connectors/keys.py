"""Key rotation and crypto-erasure for stored dataset versions.

Data is encrypted under a per-version data key; only the wrapped key depends on
the master key. Rotation re-wraps it (no data re-encryption); erasure destroys
the wrapped key, after which the ciphertext is noise, and unlinks the files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from connectors.crypto import unwrap_key, wrap_key

__all__ = ["ErasureReport", "crypto_erase", "rewrap_key"]


def rewrap_key(wrapped: bytes, *, old_master: bytes, new_master: bytes, aad: bytes) -> bytes:
    """Re-wrap a data key from ``old_master`` to ``new_master`` (same ``aad``).

    Raises DecryptionFailed when ``wrapped`` does not open under ``old_master``;
    the data key itself is unchanged, so files need no re-encryption.
    """
    return wrap_key(new_master, unwrap_key(old_master, wrapped, aad=aad), aad=aad)


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure did: files unlinked, files already gone."""

    unlinked: int
    missing: int


def _overwrite(path: Path) -> None:
    # Best effort on copy-on-write or journalling file systems; the key is what matters.
    with contextlib.suppress(OSError):
        size = path.stat().st_size
        with path.open("r+b") as handle:
            handle.write(b"\0" * min(size, 1 << 20))
            handle.flush()
            os.fsync(handle.fileno())


def crypto_erase(destroy_wrapped_key: Callable[[], None], files: Iterable[Path]) -> ErasureReport:
    """Erase a dataset version: first destroy its wrapped key, then unlink its files.

    ``destroy_wrapped_key`` deletes (or overwrites) the wrapped key where it is
    kept, e.g. the database row, and must raise if it cannot: the files are then
    left in place so the erasure can be retried. Once the key is gone the files
    are unreadable whatever happens to them; their first MiB is also zeroed
    before unlinking (best effort: file systems may keep old blocks).
    """
    destroy_wrapped_key()
    unlinked = missing = 0
    for path in files:
        if not path.exists():
            missing += 1
            continue
        _overwrite(path)
        path.unlink(missing_ok=True)
        unlinked += 1
    return ErasureReport(unlinked, missing)
