import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.errors import BadSignature, ManifestError
from connectors.manifest import check_file, sign_manifest, verify_manifest

META = {
    "name": "Registraties 2024",
    "legal_basis": "wpg-art22",
    "entity_columns": ["bsn"],
    "columns": {"bsn": "identifier"},
    "retention_until": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
}


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, bytes, bytes, Ed25519PrivateKey]:
    data = tmp_path / "registraties.csv"
    data.write_text("bsn\n111222333\n")
    key = Ed25519PrivateKey.generate()
    manifest, signature = sign_manifest(key, data, org="gemeente-delft", meta=META)
    return data, manifest, signature, key


def test_sign_and_verify(signed: tuple[Path, bytes, bytes, Ed25519PrivateKey]) -> None:
    data, manifest_bytes, signature, key = signed
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    manifest = verify_manifest(manifest_bytes, signature, pem)
    assert manifest.file_name == "registraties.csv"
    assert manifest.org == "gemeente-delft"
    assert manifest.meta.entity_columns == ["bsn"]
    check_file(manifest, data)
    raw_key = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    raw_signature = base64.b64decode(signature)
    assert verify_manifest(manifest_bytes, raw_signature, raw_key) == manifest


def test_tampered_manifest_is_refused(signed: tuple[Path, bytes, bytes, Ed25519PrivateKey]) -> None:
    _data, manifest_bytes, signature, key = signed
    body = json.loads(manifest_bytes)
    body["org"] = "other-org"
    with pytest.raises(BadSignature):
        verify_manifest(json.dumps(body).encode(), signature, key.public_key())


def test_other_key_is_refused(signed: tuple[Path, bytes, bytes, Ed25519PrivateKey]) -> None:
    _data, manifest_bytes, signature, _key = signed
    with pytest.raises(BadSignature):
        verify_manifest(manifest_bytes, signature, Ed25519PrivateKey.generate().public_key())


@pytest.mark.parametrize("signature", [b"", b"not base64!", base64.b64encode(b"x" * 10)])
def test_garbage_signature(
    signed: tuple[Path, bytes, bytes, Ed25519PrivateKey], signature: bytes
) -> None:
    _data, manifest_bytes, _signature, key = signed
    with pytest.raises(BadSignature):
        verify_manifest(manifest_bytes, signature, key.public_key())


def test_changed_file_is_refused(signed: tuple[Path, bytes, bytes, Ed25519PrivateKey]) -> None:
    data, manifest_bytes, signature, key = signed
    manifest = verify_manifest(manifest_bytes, signature, key.public_key())
    data.write_text("bsn\n123456782\n")
    with pytest.raises(ManifestError, match="sha256"):
        check_file(manifest, data)


def test_signed_but_malformed_manifest(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    body = b'{"version": 1, "file_name": "../etc/passwd"}'
    with pytest.raises(ManifestError) as caught:
        verify_manifest(body, key.sign(body), key.public_key())
    assert not isinstance(caught.value, BadSignature)
    assert "passwd" not in str(caught.value)


def test_bad_public_key() -> None:
    with pytest.raises(ManifestError):
        verify_manifest(b"{}", b"x" * 64, b"not a key")
