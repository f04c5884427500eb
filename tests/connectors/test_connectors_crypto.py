import os
from pathlib import Path

import pyarrow as pa
import pytest

from connectors.crypto import (
    DecryptionFailed,
    decrypt,
    derive_key,
    encrypt,
    generate_data_key,
    unwrap_key,
    wrap_key,
)
from connectors.store import read_encrypted_parquet, write_encrypted_parquet

MASTER = b"m" * 32


def test_derive_key_is_per_purpose_and_stable() -> None:
    assert len(derive_key(MASTER, "a")) == 32
    assert derive_key(MASTER, "a") == derive_key(MASTER, "a")
    assert derive_key(MASTER, "a") != derive_key(MASTER, "b")
    assert derive_key(MASTER, "a") != derive_key(b"n" * 32, "a")


def test_derive_key_refuses_a_short_master_key() -> None:
    with pytest.raises(ValueError):
        derive_key(b"short", "a")


def test_data_keys_are_random() -> None:
    assert len(generate_data_key()) == 32
    assert generate_data_key() != generate_data_key()


def test_wrap_round_trip() -> None:
    data_key = generate_data_key()
    wrapped = wrap_key(MASTER, data_key, aad=b"dataset:1")
    assert wrapped[0] == 1 and len(wrapped) == 1 + 12 + 32 + 16
    assert data_key not in wrapped
    assert unwrap_key(MASTER, wrapped, aad=b"dataset:1") == data_key


@pytest.mark.parametrize(
    ("master", "aad"), [(b"x" * 32, b"dataset:1"), (MASTER, b"dataset:2")], ids=["key", "aad"]
)
def test_unwrap_with_wrong_key_or_aad_fails(master: bytes, aad: bytes) -> None:
    wrapped = wrap_key(MASTER, generate_data_key(), aad=b"dataset:1")
    with pytest.raises(DecryptionFailed):
        unwrap_key(master, wrapped, aad=aad)


def test_encrypt_round_trip_uses_fresh_nonces() -> None:
    key = generate_data_key()
    first, second = encrypt(key, b"geheim", aad=b"a"), encrypt(key, b"geheim", aad=b"a")
    assert first != second
    assert b"geheim" not in first
    assert decrypt(key, first, aad=b"a") == b"geheim"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]),
        lambda blob: b"\x02" + blob[1:],
        lambda blob: blob[:10],
        lambda blob: b"",
    ],
    ids=["flipped-bit", "unknown-version", "truncated", "empty"],
)
def test_tampered_blob_fails(tamper: object) -> None:
    key = generate_data_key()
    blob = encrypt(key, b"geheim", aad=b"a")
    with pytest.raises(DecryptionFailed):
        decrypt(key, tamper(blob), aad=b"a")  # type: ignore[operator]


def test_decrypt_with_wrong_key_or_aad_fails() -> None:
    key = generate_data_key()
    blob = encrypt(key, b"geheim", aad=b"a")
    with pytest.raises(DecryptionFailed):
        decrypt(generate_data_key(), blob, aad=b"a")
    with pytest.raises(DecryptionFailed):
        decrypt(key, blob, aad=b"b")


def test_wrong_key_length_is_refused() -> None:
    with pytest.raises(ValueError):
        encrypt(b"k" * 16, b"x", aad=b"")


@pytest.fixture
def table() -> pa.Table:
    return pa.table({"pseudonym": ["a1", None, "b2"], "bedrag": [1.5, 2.0, None]})


def test_encrypted_parquet_round_trip(tmp_path: Path, table: pa.Table) -> None:
    key, path = generate_data_key(), tmp_path / "v1.parquet.enc"
    write_encrypted_parquet(table, path, key, aad=b"dataset:1:v1")
    assert read_encrypted_parquet(path, key, aad=b"dataset:1:v1").equals(table)
    raw = path.read_bytes()
    assert b"PAR1" not in raw and b"pseudonym" not in raw
    assert os.stat(path).st_mode & 0o077 == 0
    assert os.listdir(tmp_path) == ["v1.parquet.enc"]


def test_encrypted_parquet_wrong_key_or_aad(tmp_path: Path, table: pa.Table) -> None:
    key, path = generate_data_key(), tmp_path / "v1.parquet.enc"
    write_encrypted_parquet(table, path, key, aad=b"dataset:1:v1")
    with pytest.raises(DecryptionFailed):
        read_encrypted_parquet(path, generate_data_key(), aad=b"dataset:1:v1")
    with pytest.raises(DecryptionFailed):
        read_encrypted_parquet(path, key, aad=b"dataset:1:v2")


def test_failed_write_leaves_nothing_behind(
    tmp_path: Path, table: pa.Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, path = generate_data_key(), tmp_path / "v1.parquet.enc"
    write_encrypted_parquet(table, path, key, aad=b"a")
    before = path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_encrypted_parquet(table.slice(0, 1), path, key, aad=b"a")
    assert os.listdir(tmp_path) == ["v1.parquet.enc"]
    assert path.read_bytes() == before
