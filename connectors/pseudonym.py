"""Keyed pseudonymisation of identifier columns: HMAC-SHA256 of the normalised value."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PSEUDONYM_HEX_CHARS", "Pseudonymiser"]

PSEUDONYM_HEX_CHARS = 32  # 128 bits: collisions are negligible at any dataset size
_MIN_KEY_BYTES = 16


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

    def __repr__(self) -> str:
        return "Pseudonymiser(key=<hidden>)"

    def _digest(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256)
        return mac.hexdigest()[:PSEUDONYM_HEX_CHARS]

    def pseudonymise(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Return a string array of pseudonyms, one per value, nulls kept as null."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        text = pc.utf8_upper(pc.utf8_trim_whitespace(values.cast(pa.string())))
        text = pc.replace_substring_regex(text, r"[\s\p{Z}]+", "")  # \p{Z}: no-break space
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        # Hash each distinct value once; identifiers repeat across rows.
        encoded = pc.dictionary_encode(text)
        digests = pa.array(
            [self._digest(value) for value in encoded.dictionary.to_pylist()], type=pa.string()
        )
        result: pa.Array = digests.take(encoded.indices)
        return result
