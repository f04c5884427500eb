from pathlib import Path

import pytest

from connectors.crypto import DecryptionFailed, generate_data_key, unwrap_key, wrap_key
from connectors.keys import crypto_erase, rewrap_key

OLD, NEW = b"o" * 32, b"n" * 32


def test_rewrap_keeps_the_data_key() -> None:
    data_key = generate_data_key()
    wrapped = wrap_key(OLD, data_key, aad=b"ds:1")
    rewrapped = rewrap_key(wrapped, old_master=OLD, new_master=NEW, aad=b"ds:1")
    assert unwrap_key(NEW, rewrapped, aad=b"ds:1") == data_key
    with pytest.raises(DecryptionFailed):
        unwrap_key(OLD, rewrapped, aad=b"ds:1")


def test_rewrap_refuses_a_wrong_old_key() -> None:
    wrapped = wrap_key(OLD, generate_data_key(), aad=b"ds:1")
    with pytest.raises(DecryptionFailed):
        rewrap_key(wrapped, old_master=NEW, new_master=OLD, aad=b"ds:1")


def test_crypto_erase_destroys_key_first(tmp_path: Path) -> None:
    files = [tmp_path / "v1.enc", tmp_path / "v2.enc", tmp_path / "gone.enc"]
    for path in files[:2]:
        path.write_bytes(b"x" * 100)
    order: list[str] = []
    report = crypto_erase(lambda: order.append("key"), files)
    assert order == ["key"]
    assert (report.unlinked, report.missing) == (2, 1)
    assert list(tmp_path.iterdir()) == []


def test_crypto_erase_keeps_files_when_key_destruction_fails(tmp_path: Path) -> None:
    path = tmp_path / "v1.enc"
    path.write_bytes(b"x")

    def fail() -> None:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        crypto_erase(fail, [path])
    assert path.exists()
