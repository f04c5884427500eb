"""Chunked AES-256-GCM for large files: encrypt and decrypt as streams, in bounded memory.

A STREAM-like construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015). Layout::

    header   b"SLSE" | version (1) | segment size (u32) | nonce prefix (7)      16 bytes
    segment  AES-GCM(plaintext[i*S : (i+1)*S]) + 16-byte tag, for i = 0 .. n-1

The nonce of segment ``i`` is ``prefix || i`` (u40) ; the associated data is the
header, ``i``, a last-segment flag and the caller's ``aad``. So a flipped byte,
swapped, dropped, appended or truncated segments all fail to decrypt. There is
always at least one segment (the last, possibly empty). Each file gets a fresh
random prefix and callers use a fresh data key per file, so nonces never repeat.
"""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from connectors.crypto import KEY_BYTES, DecryptionFailed

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer, WriteableBuffer

__all__ = [
    "DEFAULT_SEGMENT_BYTES",
    "HEADER_BYTES",
    "EncryptedReader",
    "EncryptedWriter",
    "decrypt_file",
    "encrypt_file",
]

DEFAULT_SEGMENT_BYTES = 1 << 20
_MAGIC = b"SLSE"
_VERSION = 1
_HEADER = struct.Struct(">4sBI7s")
HEADER_BYTES = _HEADER.size
_TAG_BYTES = 16
_MAX_SEGMENTS = 1 << 40


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")


def _nonce(prefix: bytes, index: int) -> bytes:
    if index >= _MAX_SEGMENTS:
        raise ValueError("too many segments for one file")
    return prefix + index.to_bytes(5, "big")


def _segment_aad(header: bytes, index: int, last: bool, aad: bytes) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00") + aad


class EncryptedWriter(io.RawIOBase):
    """A write-only file object that encrypts what is written, segment by segment.

    Wraps an open binary ``sink``; :meth:`close` seals the last segment (and closes
    the sink unless ``close_sink=False``). Memory use is about one segment.
    """

    def __init__(
        self,
        sink: BinaryIO,
        key: bytes,
        *,
        aad: bytes,
        segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        close_sink: bool = True,
    ) -> None:
        super().__init__()
        _check_key(key)
        if not 1 <= segment_bytes <= 1 << 30:
            raise ValueError("segment size must be between 1 byte and 1 GiB")
        self._sink = sink
        self._aead = AESGCM(key)
        self._aad = aad
        self._size = segment_bytes
        self._prefix = os.urandom(7)
        self._header = _HEADER.pack(_MAGIC, _VERSION, segment_bytes, self._prefix)
        self._buffer = bytearray()
        self._index = 0
        self._written = 0
        self._close_sink = close_sink
        sink.write(self._header)

    def writable(self) -> bool:
        """Always true: this is a sink."""
        return True

    def tell(self) -> int:
        """Plaintext bytes written so far."""
        return self._written

    def _seal(self, chunk: bytes | memoryview, last: bool) -> None:
        aad = _segment_aad(self._header, self._index, last, self._aad)
        self._sink.write(self._aead.encrypt(_nonce(self._prefix, self._index), chunk, aad))
        self._index += 1

    def write(self, data: ReadableBuffer) -> int:
        """Buffer ``data``; every full segment that is surely not the last is sealed."""
        if self.closed:
            raise ValueError("write to a closed EncryptedWriter")
        view = memoryview(data).cast("B")
        self._buffer += view
        self._written += len(view)
        # Keep at least one byte back: the last segment is only known at close.
        # Seal full segments from a view, then drop them at once (one move, not one each).
        sealed = 0
        with memoryview(self._buffer) as buffered:
            while len(self._buffer) - sealed > self._size:
                self._seal(buffered[sealed : sealed + self._size], last=False)
                sealed += self._size
        del self._buffer[:sealed]
        return len(view)

    def close(self) -> None:
        """Seal the last segment and flush (and close) the sink."""
        if self.closed:
            return
        try:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._sink.flush()
        finally:
            super().close()
            if self._close_sink:
                self._sink.close()


class EncryptedReader(io.RawIOBase):
    """A read-only, seekable file object over a file written by :class:`EncryptedWriter`.

    Decrypts only the segments read (the last one always, at open, so truncation is
    caught at once); holds one segment in memory. Raises DecryptionFailed on a wrong
    key or ``aad``, or on any tampering, when the affected segment is read.
    """

    def __init__(self, source: BinaryIO, key: bytes, *, aad: bytes, close_source: bool = True):
        super().__init__()
        _check_key(key)
        self._source = source
        self._close_source = close_source
        header = source.read(HEADER_BYTES)
        if len(header) != HEADER_BYTES:
            raise DecryptionFailed("not a segmented encrypted file")
        magic, version, size, prefix = _HEADER.unpack(header)
        if magic != _MAGIC or version != _VERSION or size < 1:
            raise DecryptionFailed("not a segmented encrypted file of a known version")
        self._header: bytes = header
        self._prefix: bytes = prefix
        self._size: int = size
        self._aead = AESGCM(key)
        self._aad = aad
        total = source.seek(0, io.SEEK_END) - HEADER_BYTES
        stride = size + _TAG_BYTES
        if total < _TAG_BYTES:
            raise DecryptionFailed("the encrypted file is truncated")
        self._segments = -(-total // stride)
        last_bytes = total - (self._segments - 1) * stride - _TAG_BYTES
        if last_bytes < 0:
            raise DecryptionFailed("the encrypted file is truncated")
        self._length: int = (self._segments - 1) * self._size + last_bytes
        self._pos: int = 0
        self._cached: tuple[int, bytes] | None = None
        self._segment(self._segments - 1)

    def readable(self) -> bool:
        """Always true."""
        return True

    def seekable(self) -> bool:
        """Always true: segments have a fixed size."""
        return True

    @property
    def size(self) -> int:
        """Plaintext length in bytes."""
        return self._length

    def tell(self) -> int:
        """Current plaintext position."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to a plaintext position."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        position: int = base + offset
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position

    def _segment(self, index: int) -> bytes:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        stride = self._size + _TAG_BYTES
        self._source.seek(HEADER_BYTES + index * stride)
        blob = self._source.read(stride)
        last = index == self._segments - 1
        aad = _segment_aad(self._header, index, last, self._aad)
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, index), blob, aad)
        except InvalidTag:
            raise DecryptionFailed("wrong key, wrong associated data, or tampered data") from None
        self._cached = (index, plain)
        return plain

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Read decrypted bytes into ``buffer``; 0 at the end."""
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._length:
            index, offset = divmod(self._pos, self._size)
            chunk = self._segment(index)[offset : offset + len(view) - done]
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._pos += len(chunk)
        return done

    def verify(self) -> None:
        """Decrypt every segment once, raising DecryptionFailed at the first bad one."""
        for index in range(self._segments):
            self._segment(index)

    def close(self) -> None:
        """Close the reader (and its source unless ``close_source=False``)."""
        if not self.closed:
            super().close()
            if self._close_source:
                self._source.close()


def encrypt_file(
    source: BinaryIO,
    path: Path,
    key: bytes,
    *,
    aad: bytes,
    segment_bytes: int = DEFAULT_SEGMENT_BYTES,
) -> int:
    """Encrypt all of ``source`` into a new file at ``path`` (mode 0600); return bytes read."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with (
        os.fdopen(fd, "wb") as sink,
        EncryptedWriter(
            sink, key, aad=aad, segment_bytes=segment_bytes, close_sink=False
        ) as writer,
    ):
        while chunk := source.read(segment_bytes):
            writer.write(chunk)
        return writer.tell()


def decrypt_file(path: Path, key: bytes, *, aad: bytes) -> io.BufferedReader:
    """Open an encrypted file for streaming, seekable reads (a buffered file object)."""
    raw = EncryptedReader(path.open("rb"), key, aad=aad)
    return io.BufferedReader(raw, buffer_size=1 << 20)
