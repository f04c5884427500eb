"""Keyed pseudonymisation of identifier columns: HMAC-SHA256 of the normalised value.

Two stages. Stored datasets carry a stage-1 pseudonym, HMAC under
``derive_key(master, STAGE1_PURPOSE)``. A project sees them re-keyed with
:func:`rekey_to_project`, HMAC under ``derive_key(master, "project:" + id)``, so
one person links across datasets within a project but not across projects.
HMAC runs from precomputed SHA-256 midstates, once per distinct value of a
batch; a :meth:`Pseudonymiser.memoised` one (an ingest) also remembers values
across batches (:mod:`connectors.memo`).
"""

from __future__ import annotations

import copy
import hashlib

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from connectors.crypto import derive_key
from connectors.memo import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DigestMemo

__all__ = [
    "PSEUDONYM_HEX_CHARS",
    "STAGE1_PURPOSE",
    "Pseudonymiser",
    "project_key",
    "rekey_to_project",
    "stage1_key",
]

STAGE1_PURPOSE = "sluis/pseudonym/v1"  # the gateway's PSEUDONYM_KEY_PURPOSE

PSEUDONYM_HEX_CHARS = 32  # 128 bits: collisions are negligible at any dataset size
_MIN_KEY_BYTES = 16
_BLOCK_BYTES = 64  # SHA-256 block size
_DIGEST_BYTES = 32
_SLICE_VALUES = 8192  # values hashed per slice
_PSEUDONYM_BYTES = PSEUDONYM_HEX_CHARS // 2  # the digest bytes a pseudonym shows
_MAX_ARRAY_VALUES = (2**31 - 1) // PSEUDONYM_HEX_CHARS  # pseudonyms in one string array
# "00", "01", ... "ff" as 2-byte items: indexing it with digest bytes gives hex text.
_HEX_PAIRS = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), np.uint16)


class Pseudonymiser:
    """Turns identifier values into stable pseudonyms under one secret key.

    Values are cast to string, stripped, upper-cased and stripped of internal
    whitespace (no-break spaces too) before hashing, so ``" 1234 ab"`` and
    ``"1234AB"`` give the same pseudonym. Integers are rendered as decimal
    text without padding: the number 12345672 and the text "012345672" do not
    match (CSV uploads keep digit strings with a leading zero as text).
    Nulls, and values that are empty after normalising, become null.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"pseudonymisation key must be at least {_MIN_KEY_BYTES} bytes")
        self._key = key
        block = key if len(key) <= _BLOCK_BYTES else hashlib.sha256(key).digest()
        block = block.ljust(_BLOCK_BYTES, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))  # RFC 2104 ipad
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))  # opad
        self._memo: DigestMemo | None = None  # see memoised()

    def __repr__(self) -> str:
        return "Pseudonymiser(key=<hidden>)"

    def memoised(
        self, *, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Pseudonymiser:
        """A pseudonymiser under the same key that remembers pseudonyms across calls.

        For one ingest (one identifier column): a value recurring in later batches
        is looked up instead of hashed again. The memo is bounded (``max_entries``,
        ``max_bytes``), switches itself off when hardly anything recurs, lives in
        memory only and goes with the returned object. Same pseudonyms as ever.
        """
        twin = copy.copy(self)  # the keyed midstates are only ever copied: sharing is safe
        twin._memo = DigestMemo(_PSEUDONYM_BYTES, max_entries=max_entries, max_bytes=max_bytes)
        return twin

    @property
    def memo(self) -> DigestMemo | None:
        """The memo of a :meth:`memoised` pseudonymiser (statistics, bounds), else None."""
        return self._memo

    def _digests(self, messages: pa.Array) -> pa.Array | pa.ChunkedArray:
        """HMAC each (non-null) value of a string array: hex pseudonyms, in order."""
        if len(messages) > _MAX_ARRAY_VALUES:  # beyond 32-bit string offsets: in chunks
            parts = range(0, len(messages), _MAX_ARRAY_VALUES)
            chunks = [self._digests(messages.slice(s, _MAX_ARRAY_VALUES)) for s in parts]
            return pa.chunked_array(chunks, type=pa.string())
        return _hex_text(self._raw_digests(messages))

    def _raw_digests(self, messages: pa.Array) -> npt.NDArray[np.uint8]:
        """The HMAC routine: the pseudonym bytes of each value, one row per value."""
        # HMAC(k, m) = H(k^opad || H(k^ipad || m)): copying the two keyed midstates
        # is about four times faster than hmac.new per value. The loop keeps only
        # raw digests; the rows are filled at once in numpy.
        # Slices keep the short-lived Python objects in warm memory (no page faults).
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        count = len(messages)
        rows = np.empty((count, _PSEUDONYM_BYTES), dtype=np.uint8)
        for start in range(0, count, _SLICE_VALUES):
            digests: list[bytes] = []
            append = digests.append
            for message in messages.slice(start, _SLICE_VALUES).cast(pa.binary()).to_pylist():
                inner = inner_copy()
                inner.update(message)
                outer = outer_copy()
                outer.update(inner.digest())
                append(outer.digest())
            raw = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, _DIGEST_BYTES)
            rows[start : start + len(digests)] = raw[:, :_PSEUDONYM_BYTES]
        return rows

    def hash_distinct(self, text: pa.Array) -> pa.Array:
        """HMAC each value of a string array as is (no normalising), nulls kept."""
        return self.hash_encoded(pc.dictionary_encode(text))

    def hash_encoded(self, encoded: pa.DictionaryArray) -> pa.Array:
        """HMAC a dictionary-encoded string array: each distinct value once, nulls kept.

        A :meth:`memoised` pseudonymiser hashes only values it has not seen before.
        """
        dictionary = encoded.dictionary
        if self._memo is None or len(dictionary) > _MAX_ARRAY_VALUES:
            pseudonyms = self._digests(dictionary)
        else:
            pseudonyms = _hex_text(self._memo.digests(dictionary, self._raw_digests))
        result: pa.Array = pseudonyms.take(encoded.indices)
        return result

    @staticmethod
    def normalise(values: pa.Array | pa.ChunkedArray) -> pa.DictionaryArray:
        """The normalised values, dictionary-encoded: what :meth:`hash_encoded` hashes.

        Pure Arrow (no GIL held), so it can run on another thread than the HMAC.
        """
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        text = values.cast(pa.string())
        if pc.all(pc.ascii_is_alnum(text)).as_py():
            # Only ASCII letters and digits (BSNs, IBANs as uploaded): nothing to trim
            # or remove, none empty, and upper case is ASCII upper case. The same
            # result as below for less than half the work.
            text = pc.ascii_upper(text)
        else:
            text = pc.utf8_upper(pc.utf8_trim_whitespace(text))
            if not pc.all(pc.ascii_is_alnum(text)).as_py():  # trimming was not enough
                text = pc.replace_substring_regex(text, r"[\s\p{Z}]+", "")  # \p{Z}: nbsp
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        # Identifiers repeat across rows: the dictionary holds each distinct value once.
        encoded: pa.DictionaryArray = pc.dictionary_encode(text)
        return encoded

    def pseudonymise(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Return a string array of pseudonyms, one per value, nulls kept as null."""
        return self.hash_encoded(self.normalise(values))


def _hex_text(rows: npt.NDArray[np.uint8]) -> pa.Array:
    """Pseudonym bytes (one row per value) as a string array of lowercase hex."""
    count = len(rows)
    # One 2-character item per byte, built at once (np.take: twice as fast as _HEX_PAIRS[rows]).
    text = np.take(_HEX_PAIRS, rows)
    step = PSEUDONYM_HEX_CHARS
    offsets = np.arange(0, (count + 1) * step, step, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(text))


def stage1_key(master_key: bytes) -> bytes:
    """The key of stored (stage-1) pseudonyms."""
    return derive_key(master_key, STAGE1_PURPOSE)


def project_key(master_key: bytes, project_id: str | int) -> bytes:
    """The key that scopes pseudonyms to one project."""
    return derive_key(master_key, f"project:{project_id}")


def rekey_to_project(
    pseudonyms: pa.Array | pa.ChunkedArray, master_key: bytes, project_id: str | int
) -> pa.Array:
    """Re-key a stage-1 pseudonym column to a project: HMAC under the project's key.

    Deterministic within a project (joins across its datasets work), unlinkable
    across projects. Nulls stay null. Hashes each distinct value once.
    """
    if isinstance(pseudonyms, pa.ChunkedArray):
        pseudonyms = pseudonyms.combine_chunks()
    if pa.types.is_dictionary(pseudonyms.type):
        pseudonyms = pseudonyms.dictionary_decode()
    return Pseudonymiser(project_key(master_key, project_id)).hash_distinct(
        pseudonyms.cast(pa.string())
    )
