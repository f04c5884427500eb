"""Dataset versions decrypted into memory for the query engine, re-keyed to a project's scope.

Stored pseudonyms are stage 1 (one scope for the whole gateway). A project
sees its identifier and entity columns re-keyed under its own key, so one
person links across datasets within a project but not across projects.
Decrypted tables live in a small in-memory cache only, never on disk. A project's table
also carries hidden hashes of those columns for the engine's entity-set sketches
(:mod:`gateway.engine.hashes`): hashed once here rather than in every query.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

import pyarrow as pa

from connectors import crypto
from connectors.pipeline import read_dataset
from connectors.pseudonym import rekey_to_project
from connectors.store import read_encrypted_parquet
from gateway.core.errors import NotFound
from gateway.engine.hashes import with_entity_hashes
from gateway.models import DatasetVersion
from gateway.services import keys
from gateway.services.runtime import Runtime

__all__ = ["forget", "load_table", "rekey_columns", "stats"]

_CACHE_SIZE = 6
_SEGMENTED_MAGIC = b"SLSE"  # connectors.segcrypt's header: files of the streaming ingest


class _TableCache:
    """Recently used tables by key; least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._lock = Lock()

    def get_or_load(self, key: str, load: Callable[[], pa.Table]) -> pa.Table:
        with self._lock:
            if key in self._tables:
                self._tables.move_to_end(key)
                return self._tables[key]
        table = load()
        with self._lock:
            self._tables[key] = table
            while len(self._tables) > self.size:
                self._tables.popitem(last=False)
        return table

    def drop(self, marker: str) -> None:
        with self._lock:
            for key in [k for k in self._tables if marker in k]:
                del self._tables[key]


_cache = _TableCache(_CACHE_SIZE)
# Seconds spent re-keying (and hashing), by (version id, project id): the cost of project
# scoping.
stats: dict[tuple[str, str], float] = {}


def rekey_columns(version: DatasetVersion) -> list[str]:
    """The columns holding stage-1 pseudonyms: those declared ``identifier``.

    An entity column of another role holds plain values (say a region code),
    which no key scopes; only pseudonyms are re-keyed.
    """
    return [c["name"] for c in version.columns if c["role"] == "identifier"]


def _decrypt(rt: Runtime, version: DatasetVersion) -> pa.Table:
    wrapped = version.wrapped_key
    if wrapped is None:
        raise NotFound("this dataset version was erased when its retention date passed")
    aad = keys.version_aad(version.dataset_id, version.version)
    master = keys.master_key(rt, version.key_id)
    path = rt.settings.datasets_dir / version.file_name
    with path.open("rb") as handle:
        segmented = handle.read(len(_SEGMENTED_MAGIC)) == _SEGMENTED_MAGIC
    if segmented:
        return read_dataset(path, wrapped, master, aad=aad)
    # Stored before streaming ingest: one AES-GCM blob.
    data_key = crypto.unwrap_key(master, wrapped, aad=aad)
    return read_encrypted_parquet(path, data_key, aad=aad)


def load_table(rt: Runtime, version: DatasetVersion, project_id: str | None = None) -> pa.Table:
    """Decrypt one dataset version; with ``project_id``, pseudonyms re-keyed to that project.

    Without a project the stage-1 pseudonyms are returned (for gateway-internal
    use only; every analyst query names its project). NotFound once erased.
    """
    if version.wrapped_key is None:
        raise NotFound("this dataset version was erased when its retention date passed")
    base = f"{rt.settings.datasets_dir}:{version.id}"
    table = _cache.get_or_load(base, lambda: _decrypt(rt, version))
    if project_id is None:
        return table
    columns = rekey_columns(version)

    def rekey() -> pa.Table:
        started = time.perf_counter()
        root = keys.pseudonym_root(rt)
        out = table
        for name in columns:
            index = out.schema.get_field_index(name)
            out = out.set_column(index, name, rekey_to_project(out.column(name), root, project_id))
        # Entity columns are identifiers (pseudonyms); another entity column is hashed in SQL.
        out = with_entity_hashes(out, columns)
        stats[(version.id, project_id)] = time.perf_counter() - started
        return out

    return _cache.get_or_load(f"{base}:project:{project_id}", rekey)


def forget(version_id: str) -> None:
    """Drop a version from the cache (after erasure)."""
    _cache.drop(version_id)
