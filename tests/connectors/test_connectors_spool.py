import hashlib
from pathlib import Path

import pytest

from connectors.errors import UploadTooLarge
from connectors.spool import EncryptedSpool

PLANTED = b"111222333"


def test_spool_round_trip_and_cleanup(tmp_path: Path) -> None:
    body = b"bsn;x\n" + b"".join(PLANTED + b";%d\n" % i for i in range(50_000))
    with EncryptedSpool(tmp_path) as spool:
        for start in range(0, len(body), 7777):
            spool.write(body[start : start + 7777])
        assert spool.finish() == hashlib.sha256(body).hexdigest()
        assert spool.size == len(body)
        on_disk = spool.path.read_bytes()
        assert PLANTED not in on_disk and b"bsn;x" not in on_disk
        assert spool.path.stat().st_mode & 0o777 == 0o600
        first, second = spool.open(), spool.open()
        assert first.read() == body
        second.seek(len(body) - 10)
        assert second.read() == body[-10:]
    assert list(tmp_path.iterdir()) == []
    assert first.closed


def test_spool_size_limit_deletes(tmp_path: Path) -> None:
    spool = EncryptedSpool(tmp_path, max_bytes=10)
    spool.write(b"12345")
    with pytest.raises(UploadTooLarge):
        spool.write(b"678901")
    assert list(tmp_path.iterdir()) == []


def test_spool_key_not_in_repr(tmp_path: Path) -> None:
    with EncryptedSpool(tmp_path) as spool:
        key = spool._key
        assert key.hex() not in repr(spool) and repr(key) not in repr(spool)
