"""A private scratch folder per ingest, locked while its process lives, swept after a crash.

Everything an ingest writes before its database commit lives in
``tmp/ingest-<token>/``: the encrypted spool and the encrypted Parquet. The
folder's lock file is held (``flock``) for the whole ingest; the kernel drops
the lock when the process dies, however it dies, so :func:`sweep` can tell a
live ingest from a dead one. Just before the final rename the workspace notes
the final path, so a crash between rename and commit is undone too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["Workspace", "sweep", "workspace"]

_PREFIX = "ingest-"
_LOCK = "lock"
_FINAL_NOTE = "final"
_GRACE_S = 60.0


class Workspace:
    """The scratch folder of one running ingest."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def file(self, name: str) -> Path:
        """A path inside the workspace."""
        return self.path / name

    def publish(self, staged: Path, final: Path) -> None:
        """Move a finished file to its final place (same file system: an atomic rename)."""
        final.parent.mkdir(parents=True, exist_ok=True)
        note = self.file(_FINAL_NOTE)
        note.write_text(str(final))
        os.replace(staged, final)


@contextlib.contextmanager
def workspace(tmp_dir: Path) -> Iterator[Workspace]:
    """Create a locked workspace under ``tmp_dir``; removed when the block ends."""
    tmp_dir.mkdir(parents=True, exist_ok=True)
    path = tmp_dir / f"{_PREFIX}{secrets.token_hex(8)}"
    path.mkdir(mode=0o700)
    fd = os.open(path / _LOCK, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield Workspace(path)
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(fd)


def sweep(tmp_dir: Path, is_committed: Callable[[Path], bool]) -> list[Path]:
    """Remove the workspaces of dead ingests and any final file they left uncommitted.

    ``is_committed(final)`` says whether the database knows a published file.
    Returns the removed paths; workspaces of live ingests are left alone.
    """
    removed: list[Path] = []
    if not tmp_dir.is_dir():
        return removed
    for path in sorted(tmp_dir.glob(f"{_PREFIX}*")):
        if not path.is_dir():
            continue
        try:
            fd = os.open(path / _LOCK, os.O_RDONLY)
        except OSError:
            # No lock file: its creator died right after mkdir, or is about to create it.
            if time.time() - path.stat().st_mtime < _GRACE_S:
                continue
            fd = -1
        try:
            if fd >= 0:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a live ingest holds it
            note = path / _FINAL_NOTE
            if note.exists():
                final = Path(note.read_text())
                if final.exists() and not is_committed(final):
                    final.unlink()
                    removed.append(final)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        finally:
            if fd >= 0:
                os.close(fd)
    return removed
