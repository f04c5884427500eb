"""An upload spooled to disk encrypted under a key that lives only in memory.

An upload holds raw identifiers, so it never touches the disk in clear: chunks
are sealed as they are written (:mod:`connectors.segcrypt`) under a random
ephemeral key that is never written anywhere, so a crash leaves only unreadable
bytes. Reading back gives a seekable file object that every reader can parse.
Closing the spool deletes the file.

::

    with EncryptedSpool(tmp_dir) as spool:
        for chunk in request_body:
            spool.write(chunk)          # may raise UploadTooLarge
        spool.finish()
        result = ingest(spool.open(), filename, ...)
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from connectors.crypto import generate_data_key
from connectors.errors import UploadTooLarge
from connectors.segcrypt import EncryptedReader, EncryptedWriter

__all__ = ["EncryptedSpool"]

_AAD = b"sluis/spool/v1"


class EncryptedSpool:
    """Write an upload once, :meth:`finish`, then :meth:`open` it as often as needed."""

    def __init__(self, directory: Path, *, max_bytes: int | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"spool-{secrets.token_hex(8)}.enc"
        self._key = generate_data_key()
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._writer: EncryptedWriter | None = EncryptedWriter(
            os.fdopen(fd, "wb"), self._key, aad=_AAD
        )
        self._readers: list[BinaryIO] = []

    def __repr__(self) -> str:
        return f"EncryptedSpool(path={self.path!s}, size={self.size})"

    def write(self, chunk: bytes) -> None:
        """Append a chunk; UploadTooLarge (and the spool deleted) past ``max_bytes``."""
        if self._writer is None:
            raise ValueError("the spool is finished")
        self.size += len(chunk)
        if self._max_bytes is not None and self.size > self._max_bytes:
            self.close()
            raise UploadTooLarge(f"the upload exceeds the limit of {self._max_bytes} bytes")
        self._digest.update(chunk)
        self._writer.write(chunk)

    def finish(self) -> str:
        """Seal the spool for reading; returns the sha256 (hex) of the upload."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return self._digest.hexdigest()

    @property
    def sha256(self) -> str:
        """The sha256 (hex) of what was written so far."""
        return self._digest.hexdigest()

    def open(self) -> BinaryIO:
        """A fresh seekable, buffered reader of the plaintext (closed with the spool)."""
        self.finish()
        raw = EncryptedReader(self.path.open("rb"), self._key, aad=_AAD)
        reader = io.BufferedReader(raw, buffer_size=1 << 20)
        self._readers.append(reader)
        return reader

    def close(self) -> None:
        """Close every reader and delete the file; the key is dropped with the object."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        for reader in self._readers:
            reader.close()
        self._readers.clear()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> EncryptedSpool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
