"""Drop-folder manifests: which file, its sha256, whose, and its dataset metadata, signed.

A steward drops three files into the watched folder::

    registraties.csv                  the data
    registraties.csv.manifest.json    the manifest (UTF-8 JSON, below)
    registraties.csv.manifest.sig     Ed25519 signature of the manifest's exact bytes
                                      (64 raw bytes, or their base64 on one line)

The manifest::

    {"version": 1,
     "file_name": "registraties.csv",
     "sha256": "<64 hex digits of the data file>",
     "org": "<organisation name>",
     "meta": {"name": ..., "legal_basis": ..., "entity_columns": [...],
              "columns": {...}, "retention_until": "YYYY-MM-DD"}}

``meta`` is the upload ``meta`` of the HTTP API. The organisation's public key
is registered beforehand (``sluis org add-key ORG KEYFILE``: a PEM
SubjectPublicKeyInfo, or 32 raw bytes). :func:`sign_manifest` makes both files
from a private key, e.g. in a steward's export script::

    manifest, signature = sign_manifest(private_key, path, org="gemeente-delft", meta=meta)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.errors import BadSignature, ManifestError
from connectors.filenames import safe_filename
from connectors.schema import DatasetMeta

__all__ = [
    "MANIFEST_SUFFIX",
    "SIGNATURE_SUFFIX",
    "Manifest",
    "check_file",
    "file_sha256",
    "load_public_key",
    "sign_manifest",
    "verify_manifest",
]

MANIFEST_SUFFIX = ".manifest.json"
SIGNATURE_SUFFIX = ".manifest.sig"
_MAX_MANIFEST_BYTES = 1 << 20
_CHUNK = 1 << 20


class Manifest(BaseModel):
    """A verified manifest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1, le=1)
    file_name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    org: str = Field(min_length=1, max_length=100)
    meta: DatasetMeta


def load_public_key(key: bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, 32 raw bytes, or as is; ManifestError otherwise."""
    if isinstance(key, Ed25519PublicKey):
        return key
    try:
        if len(key) == 32:
            return Ed25519PublicKey.from_public_bytes(key)
        loaded = serialization.load_pem_public_key(key)
    except ValueError:
        raise ManifestError("the organisation key is not an Ed25519 public key") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise ManifestError("the organisation key is not an Ed25519 public key")
    return loaded


def _signature_bytes(signature: bytes) -> bytes:
    if len(signature) == 64:
        return signature
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadSignature("the signature is neither 64 bytes nor base64") from None
    if len(raw) != 64:
        raise BadSignature("the signature is not an Ed25519 signature (64 bytes)")
    return raw


def verify_manifest(
    manifest_bytes: bytes, signature: bytes, public_key: bytes | Ed25519PublicKey
) -> Manifest:
    """Verify the signature over the exact manifest bytes, then parse the manifest.

    Raises BadSignature when the signature does not verify (nothing is parsed
    before it does) and ManifestError when the signed manifest is malformed.
    """
    key = load_public_key(public_key)
    try:
        key.verify(_signature_bytes(signature), manifest_bytes)
    except InvalidSignature:
        raise BadSignature(
            "the manifest signature does not verify under the organisation's key"
        ) from None
    if len(manifest_bytes) > _MAX_MANIFEST_BYTES:
        raise ManifestError("the manifest is larger than 1 MiB")
    try:
        manifest = Manifest.model_validate_json(manifest_bytes)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'manifest'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise ManifestError(f"invalid manifest: {problems}") from None
    if safe_filename(manifest.file_name) != manifest.file_name:
        raise ManifestError("the manifest's file_name is not a plain file name")
    return manifest


def file_sha256(path: Path) -> str:
    """The sha256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(manifest: Manifest, path: Path) -> None:
    """Check that ``path`` is the file the manifest names: name and sha256 (ManifestError)."""
    if path.name != manifest.file_name:
        raise ManifestError("the file name does not match the manifest's file_name")
    if file_sha256(path) != manifest.sha256:
        raise ManifestError("the file's sha256 does not match the manifest")


def sign_manifest(
    private_key: Ed25519PrivateKey, data_file: Path, *, org: str, meta: DatasetMeta | dict[str, Any]
) -> tuple[bytes, bytes]:
    """Build and sign the manifest of ``data_file``: (manifest bytes, base64 signature line)."""
    meta_json = meta.model_dump(mode="json") if isinstance(meta, DatasetMeta) else meta
    body = {
        "version": 1,
        "file_name": data_file.name,
        "sha256": file_sha256(data_file),
        "org": org,
        "meta": meta_json,
    }
    manifest = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"
    signature = base64.b64encode(private_key.sign(manifest)) + b"\n"
    return manifest, signature
