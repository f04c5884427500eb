"""The drop folder: ingest files whose manifest the organisation signed; reject the rest.

A drop is three files (format in :mod:`connectors.manifest`): ``F``,
``F.manifest.sig`` and ``F.manifest.json``; only manifests are looked for, so
partners write the manifest last. Outcomes, each audited: a verified file is
ingested as a new dataset version, its data file deleted (raw data is not kept
around) and manifest and signature moved to ``done/`` as a receipt; a bad
manifest, signature, checksum or dataset moves all three to ``rejected/``
beside a ``.reason`` file. Ingest is idempotent on the file's sha256: a file
ingested before is not ingested again.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors import manifest as manifests
from connectors.errors import BadSignature, IngestError, ManifestError
from connectors.spool import EncryptedSpool
from gateway.audit.log import AuditContext, append
from gateway.core.errors import BadInput, Conflict, SluisError
from gateway.ingest.workspace import workspace
from gateway.models import InboxFile, Organisation, OrganisationKey, User
from gateway.services import datasets
from gateway.services.runtime import Runtime
from gateway.services.users import org_by_name

__all__ = ["Outcome", "add_org_key", "scan", "service_user"]

_COPY_BYTES = 1 << 20
DEFAULT_SETTLE_S = 2.0
_LOCK_NAME = ".sluis-inbox.lock"


@dataclass(frozen=True)
class Outcome:
    """What happened to one dropped file (no data values, ever)."""

    file: str
    status: str  # ingested | duplicate | rejected
    reason: str = ""
    dataset_id: str | None = None
    version: int | None = None


def _public_key_bytes(key_bytes: bytes) -> bytes:
    """Raw 32 bytes of an Ed25519 public key given as PEM, raw bytes, hex or base64."""
    text = key_bytes.strip()
    candidates = [key_bytes]
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            candidates.append(decode(text.decode("ascii")))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            continue
    for candidate in candidates:
        if len(candidate) != 32 and not candidate.lstrip().startswith(b"-----BEGIN"):
            continue
        try:
            key = manifests.load_public_key(candidate)
        except ManifestError:
            continue
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raise BadInput("the key file must hold an Ed25519 public key: PEM, or 32 raw bytes")


def add_org_key(rt: Runtime, ctx: AuditContext, org: str, key_bytes: bytes) -> str:
    """Register an Ed25519 public key that signs the organisation's manifests; its fingerprint."""
    raw = _public_key_bytes(key_bytes)
    fingerprint = hashlib.sha256(raw).hexdigest()
    with rt.write() as s:
        organisation = org_by_name(s, org)
        exists = s.scalars(
            select(OrganisationKey).where(
                OrganisationKey.org_id == organisation.id, OrganisationKey.public_key == raw
            )
        ).first()
        if exists is not None:
            raise Conflict(f"organisation {org} already has the key {fingerprint[:16]}")
        s.add(OrganisationKey(org_id=organisation.id, public_key=raw, fingerprint=fingerprint))
        append(s, ctx, "org.add_key", f"org:{org}", details={"fingerprint": fingerprint})
    return fingerprint


def service_user(rt: Runtime, ctx: AuditContext, org: str) -> User:
    """The organisation's service account for unattended ingest (inactive: it has no login)."""
    username = f"svc-{org}"[:64]
    with rt.read() as s:
        user = s.scalars(select(User).where(User.username == username)).first()
        if user is not None:
            return user
    with rt.write() as s:
        organisation = org_by_name(s, org)
        user = User(username=username, org_id=organisation.id, role="steward", active=False)
        s.add(user)
        s.flush()
        append(s, ctx, "user.add", f"user:{username}", details={"org": org, "service": True})
        s.refresh(user)
        return user


@contextlib.contextmanager
def _scan_lock(directory: Path) -> Iterator[bool]:
    """One scanner per folder at a time, across processes; False when another holds it."""
    fd = os.open(directory / _LOCK_NAME, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _settling(manifest_path: Path, settle_s: float) -> bool:
    """Whether a drop's files changed within ``settle_s`` seconds (a partner may still write)."""
    data_name = manifest_path.name[: -len(manifests.MANIFEST_SUFFIX)]
    now = time.time()
    for path in (manifest_path, manifest_path.with_name(data_name)):
        with contextlib.suppress(OSError):
            if now - path.stat().st_mtime < settle_s:
                return True
    return False


def scan(
    rt: Runtime, ctx: AuditContext, directory: Path, *, settle_s: float = DEFAULT_SETTLE_S
) -> list[Outcome]:
    """Look at every settled manifest in ``directory`` once; returns what happened to each.

    A drop whose files changed in the last ``settle_s`` seconds waits for the
    next scan, so a manifest still being written is not rejected as broken.
    """
    for sub in ("done", "rejected"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
    outcomes: list[Outcome] = []
    with _scan_lock(directory) as mine:
        if not mine:
            return outcomes
        for path in sorted(directory.glob(f"*{manifests.MANIFEST_SUFFIX}")):
            if not _settling(path, settle_s):
                outcomes.append(_one(rt, ctx, directory, path))
    return outcomes


def _keys_of(s: Session, org: Organisation) -> list[bytes]:
    rows = s.scalars(
        select(OrganisationKey).where(
            OrganisationKey.org_id == org.id, OrganisationKey.revoked.is_(False)
        )
    )
    return [k.public_key for k in rows]


def _claimed_org(manifest_bytes: bytes) -> str:
    """The organisation an (unverified) manifest claims, to pick the keys to verify it with."""
    try:
        doc = json.loads(manifest_bytes)
    except ValueError:
        raise ManifestError("the manifest is not JSON") from None
    org = doc.get("org") if isinstance(doc, dict) else None
    if not isinstance(org, str) or not org:
        raise ManifestError("the manifest names no organisation (org)")
    return org


def _verify(rt: Runtime, manifest_bytes: bytes, signature: bytes) -> manifests.Manifest:
    claimed = _claimed_org(manifest_bytes)
    with rt.read() as s:
        organisation = s.scalars(select(Organisation).where(Organisation.name == claimed)).first()
        if organisation is None:
            raise ManifestError(f"no organisation {claimed}")
        keys = _keys_of(s, organisation)
    if not keys:
        raise BadSignature(f"organisation {claimed} has no key; add one with sluis org add-key")
    failure: ManifestError = BadSignature("no key")
    for key in keys:
        try:
            manifest = manifests.verify_manifest(manifest_bytes, signature, key)
        except BadSignature as exc:
            failure = exc
            continue
        if manifest.org != claimed:  # cannot happen once signed, but keep the check explicit
            raise ManifestError("the manifest's organisation changed")
        return manifest
    raise failure


def _one(rt: Runtime, ctx: AuditContext, directory: Path, manifest_path: Path) -> Outcome:
    data_name = manifest_path.name[: -len(manifests.MANIFEST_SUFFIX)]
    data_path = directory / data_name
    sig_path = directory / f"{data_name}{manifests.SIGNATURE_SUFFIX}"
    others = [p for p in (manifest_path, sig_path) if p.exists()]
    if not data_path.is_file():
        return _reject(rt, ctx, directory, others, None, "", "the data file is missing")
    with workspace(rt.settings.tmp_dir) as space, EncryptedSpool(space.path) as spool:
        # Spool first and check the spooled bytes: the file cannot change after its check.
        with data_path.open("rb") as source:
            while chunk := source.read(_COPY_BYTES):
                spool.write(chunk)
        sha256 = spool.finish()
        try:
            if not sig_path.is_file():
                raise BadSignature(f"the signature file {sig_path.name} is missing")
            manifest = _verify(rt, manifest_path.read_bytes(), sig_path.read_bytes())
            if manifest.file_name != data_name:
                raise ManifestError("the manifest's file_name does not name the file beside it")
            if manifest.sha256 != sha256:
                raise ManifestError("the file's sha256 does not match the manifest")
        except IngestError as exc:
            return _reject(rt, ctx, directory, others, data_path, sha256, str(exc))
        with rt.read() as s:
            done = s.get(InboxFile, sha256)
        if done is not None and done.status == "ingested":
            data_path.unlink()
            for path in others:
                _move(path, directory / "done")
            with rt.write() as s:
                append(s, ctx, "inbox.duplicate", f"inbox:{sha256}", details={"file": data_name})
            return Outcome(data_name, "duplicate")
        user = service_user(rt, ctx, manifest.org)
        try:
            body = datasets.ingest(
                rt,
                ctx,
                user,
                spool,
                data_name,
                manifest.meta.model_dump_json(),
                source="inbox",
                space=space,
            )
        except SluisError as exc:
            reason = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
            return _reject(rt, ctx, directory, others, data_path, sha256, reason)
    with rt.write() as s:
        row = s.get(InboxFile, sha256) or InboxFile(sha256=sha256)
        row.file_name, row.org_id, row.status = data_name[:200], user.org_id, "ingested"
        row.reason, row.dataset_version_id = "", body["version_id"]
        s.add(row)
        details = {"file": data_name, "dataset": body["id"], "version": body["version"]}
        append(s, ctx, "inbox.ingest", f"inbox:{sha256}", details=details)
    data_path.unlink()  # raw data is not kept; the manifest and signature are the receipt
    for path in others:
        _move(path, directory / "done")
    return Outcome(data_name, "ingested", dataset_id=body["id"], version=body["version"])


def _move(path: Path, folder: Path) -> Path:
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.name}.{n}"
        n += 1
    os.replace(path, target)
    return target


def _reject(
    rt: Runtime,
    ctx: AuditContext,
    directory: Path,
    others: list[Path],
    data_path: Path | None,
    sha256: str,
    reason: str,
) -> Outcome:
    rejected = directory / "rejected"
    moved = _move(data_path, rejected) if data_path is not None else None
    for path in others:
        _move(path, rejected)
    name = moved.name if moved is not None else others[0].name
    (rejected / f"{name}.reason").write_text(reason + "\n")
    with rt.write() as s:
        if sha256:
            row = s.get(InboxFile, sha256)
            if row is None or row.status != "ingested":
                row = row or InboxFile(sha256=sha256)
                row.file_name, row.status, row.reason = name[:200], "rejected", reason
                s.add(row)
        append(s, ctx, "inbox.reject", f"inbox:{sha256 or name}", details={"reason": reason})
    return Outcome(name, "rejected", reason=reason)
