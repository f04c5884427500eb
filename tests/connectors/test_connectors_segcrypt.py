import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.crypto import DecryptionFailed, generate_data_key
from connectors.segcrypt import HEADER_BYTES, EncryptedReader, EncryptedWriter, decrypt_file

SEG = 64
STRIDE = SEG + 16


def seal(data: bytes, key: bytes, aad: bytes = b"v1") -> bytes:
    sink = io.BytesIO()
    with EncryptedWriter(sink, key, aad=aad, segment_bytes=SEG, close_sink=False) as writer:
        for start in range(0, len(data), 50):  # writes that straddle segments
            writer.write(data[start : start + 50])
    return sink.getvalue()


def unseal(blob: bytes, key: bytes, aad: bytes = b"v1") -> bytes:
    reader = EncryptedReader(io.BytesIO(blob), key, aad=aad)
    return reader.read()


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 3 * SEG, 3 * SEG + 7])
def test_round_trip(size: int) -> None:
    key, data = generate_data_key(), os.urandom(size)
    blob = seal(data, key)
    assert unseal(blob, key) == data
    assert size < 16 or data not in blob


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=500), offset=st.integers(0, 600), length=st.integers(0, 300))
def test_random_access_reads(data: bytes, offset: int, length: int) -> None:
    key = generate_data_key()
    reader = io.BufferedReader(EncryptedReader(io.BytesIO(seal(data, key)), key, aad=b"v1"))
    reader.seek(offset)
    assert reader.read(length) == data[offset : offset + length]


def segments(blob: bytes) -> tuple[bytes, list[bytes]]:
    body = blob[HEADER_BYTES:]
    return blob[:HEADER_BYTES], [body[i : i + STRIDE] for i in range(0, len(body), STRIDE)]


def tampered(blob: bytes, how: str) -> bytes:
    header, parts = segments(blob)
    if how == "flip":
        middle = bytearray(blob)
        middle[HEADER_BYTES + STRIDE + 3] ^= 1
        return bytes(middle)
    if how == "swap":
        parts[0], parts[1] = parts[1], parts[0]
    elif how == "drop_last":
        parts = parts[:-1]
    elif how == "drop_first":
        parts = parts[1:]
    elif how == "truncate_mid":
        return blob[:-5]
    elif how == "append":
        parts = [*parts, parts[0]]
    elif how == "header":
        header = header[:-1] + bytes([header[-1] ^ 1])
    return header + b"".join(parts)


@pytest.mark.parametrize(
    "how", ["flip", "swap", "drop_last", "drop_first", "truncate_mid", "append", "header"]
)
def test_tampering_is_detected(how: str) -> None:
    key = generate_data_key()
    blob = seal(os.urandom(3 * SEG + 10), key)
    with pytest.raises(DecryptionFailed):
        unseal(tampered(blob, how), key)


def test_wrong_key_or_aad_fails() -> None:
    key = generate_data_key()
    blob = seal(b"x" * 200, key)
    with pytest.raises(DecryptionFailed):
        unseal(blob, generate_data_key())
    with pytest.raises(DecryptionFailed):
        unseal(blob, key, aad=b"v2")


def test_not_an_encrypted_file() -> None:
    with pytest.raises(DecryptionFailed):
        EncryptedReader(io.BytesIO(b"PAR1 plain parquet"), generate_data_key(), aad=b"")


def test_decrypt_file_streams(tmp_path: Path) -> None:
    key = generate_data_key()
    path = tmp_path / "f.enc"
    path.write_bytes(seal(b"abc" * 1000, key))
    with decrypt_file(path, key, aad=b"v1") as handle:
        assert handle.read(3) == b"abc"
        handle.seek(2997)
        assert handle.read() == b"abc"
