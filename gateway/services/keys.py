"""Keys derived from or wrapped by the master key: the pseudonym root, and master-key rotation.

Rotation re-wraps every data key (and every other secret sealed under the
master key) in one database transaction; the data files are not touched. The
new key is first written beside the old one as ``<key>.next``; once the
transaction commits it replaces the old key file. A crash in between is
repaired by :func:`finish_rotation`, which keeps whichever key the database
was last wrapped under.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from connectors import crypto
from connectors.keys import rewrap_key
from gateway.audit.log import AuditContext, append
from gateway.core.config import Settings
from gateway.core.errors import BadInput, Conflict, DependencyDown
from gateway.core.keys import (
    FileKeyProvider,
    key_id,
    load_master_key,
    provider_for,
    read_new_key,
    write_key_file,
)
from gateway.models import DatasetVersion, KeyMaterial
from gateway.services import release_state
from gateway.services.runtime import Runtime

__all__ = [
    "PSEUDONYM_ROOT",
    "finish_rotation",
    "master_key",
    "pseudonym_root",
    "rewrap_if_rotated",
    "rotate",
    "version_aad",
]

PSEUDONYM_ROOT = "pseudonym-root"
# The purpose the first pseudonym key was derived under; kept so data stored
# before the root key existed keeps its pseudonyms.
LEGACY_PSEUDONYM_PURPOSE = "sluis/pseudonym/v1"


def version_aad(dataset_id: str, version: int) -> bytes:
    """The associated data binding a data key and its file to one dataset version."""
    return f"{dataset_id}:{version}".encode()


def _material_aad(name: str) -> bytes:
    return f"key_material:{name}".encode()


def master_key(rt: Runtime, wanted_key_id: str = "") -> bytes:
    """The master key; during another process's rotation, the pending key if that is wanted.

    Between a rotation's commit and the key file's replacement the database
    already records the new key: it is then read from the pending file.
    """
    key = rt.master_key
    if wanted_key_id and key_id(key) != wanted_key_id:
        provider = provider_for(rt.settings)
        if isinstance(provider, FileKeyProvider):
            pending = _next_path(provider.path)
            with contextlib.suppress(DependencyDown):
                candidate = load_master_key(pending)
                if key_id(candidate) == wanted_key_id:
                    return candidate
    return key


def current_master_key(rt: Runtime) -> bytes:
    """The master key the database is wrapped under now (the pending one mid-rotation)."""
    with rt.read() as s:
        row = s.get(KeyMaterial, PSEUDONYM_ROOT)
        wanted = row.key_id if row is not None else ""
    return master_key(rt, wanted)


def pseudonym_root(rt: Runtime) -> bytes:
    """The secret all pseudonym keys derive from, created on first use and stable ever after."""
    with rt.read() as s:
        row = s.get(KeyMaterial, PSEUDONYM_ROOT)
        if row is not None:
            return crypto.unwrap_key(
                master_key(rt, row.key_id), row.wrapped, aad=_material_aad(PSEUDONYM_ROOT)
            )
    key = rt.master_key
    root = crypto.derive_key(key, LEGACY_PSEUDONYM_PURPOSE)
    try:
        with rt.write() as s:
            if s.get(KeyMaterial, PSEUDONYM_ROOT) is None:
                s.add(
                    KeyMaterial(
                        name=PSEUDONYM_ROOT,
                        wrapped=crypto.wrap_key(key, root, aad=_material_aad(PSEUDONYM_ROOT)),
                        key_id=key_id(key),
                    )
                )
    except IntegrityError:
        pass  # another process created it first: read theirs
    return pseudonym_root(rt)


def rewrap_if_rotated(
    rt: Runtime, s: Session, wrapped: bytes, wrapped_under: bytes, aad: bytes
) -> tuple[bytes, str]:
    """Re-wrap a data key made before a rotation that committed meanwhile; (wrapped, key id).

    Call inside the transaction that stores ``wrapped``: the pseudonym root's
    row records the key in force, and a rotation updates it in its own
    transaction, so the two cannot interleave.
    """
    row = s.get(KeyMaterial, PSEUDONYM_ROOT)
    used = key_id(wrapped_under)
    if row is None or row.key_id == used:
        return wrapped, used
    current = master_key(rt, row.key_id)
    if key_id(current) != row.key_id:
        raise DependencyDown("the master key in force is not readable; run `sluis init`")
    return rewrap_key(wrapped, old_master=wrapped_under, new_master=current, aad=aad), row.key_id


def _next_path(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def rotate(rt: Runtime, ctx: AuditContext, new_key_file: Path) -> dict[str, object]:
    """Re-wrap every data key and sealed secret under the key in ``new_key_file``.

    One transaction re-wraps everything (data files stay as they are); then
    the new key replaces the key file. Returns counts for the operator.
    """
    provider = provider_for(rt.settings)
    if not isinstance(provider, FileKeyProvider):
        raise BadInput(
            "the master key comes from SLUIS_MASTER_KEY; rotate it where it is kept, "
            "or use a key file to rotate with sluis"
        )
    finish_rotation(rt.settings)
    pseudonym_root(rt)  # exists before rotation, so the database always shows the key in use
    old, new = rt.master_key, read_new_key(new_key_file)
    if old == new:
        raise Conflict("the new key is the key already in use")
    old_id, new_id = key_id(old), key_id(new)
    pending = _next_path(provider.path)
    write_key_file(pending, new)  # so a crash after the commit can finish the job
    try:
        with rt.write() as s:
            versions = 0
            for v in s.scalars(
                select(DatasetVersion).where(DatasetVersion.wrapped_key.isnot(None))
            ):
                aad = version_aad(v.dataset_id, v.version)
                assert v.wrapped_key is not None
                v.wrapped_key = rewrap_key(v.wrapped_key, old_master=old, new_master=new, aad=aad)
                v.key_id = new_id
                versions += 1
            secrets = 0
            for m in s.scalars(select(KeyMaterial)):
                aad = _material_aad(m.name)
                m.wrapped = rewrap_key(m.wrapped, old_master=old, new_master=new, aad=aad)
                m.key_id = new_id
                secrets += 1
            sketches = release_state.reseal_all(s, old, new)
            s.flush()
            details = {
                "old_key_id": old_id,
                "new_key_id": new_id,
                "data_keys": versions,
                "secrets": secrets,
                "sketches": sketches,
            }
            append(s, ctx, "keys.rotate", "master-key", details=details)
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    finish_rotation(rt.settings)
    return details


def finish_rotation(settings: Settings) -> str | None:
    """Complete or undo a rotation a crash interrupted; returns what was done, if anything.

    The pending key wins when the database already records wrapping under it.
    """
    provider = provider_for(settings)
    if not isinstance(provider, FileKeyProvider):
        return None
    pending = _next_path(provider.path)
    if not pending.exists():
        return None
    from gateway.core.db import session_scope

    new_id = key_id(load_master_key(pending))
    with session_scope(settings.db_url) as s:
        ids = {m.key_id for m in s.scalars(select(KeyMaterial))}
        ids |= {
            v.key_id
            for v in s.scalars(select(DatasetVersion).where(DatasetVersion.wrapped_key.isnot(None)))
        }
    if new_id in ids:
        pending.replace(provider.path)
        return "completed"
    pending.unlink()
    return "undone"
