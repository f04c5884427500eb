"""What a project has released before: entity-set sketches and privacy-budget spend.

Differencing control needs every released row's entity-set sketch; the
sketches never leave the gateway and are stored encrypted under a key derived
from the master key for this project alone, so one project's sketches are
useless in another (and to anyone reading the database). The privacy ledger
records each epsilon charged against a project's differential-privacy budget.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymiser.differencing import EntitySketch
from anonymiser.dp import Charge
from connectors import crypto
from gateway.models import PrivacySpend, ReleasedSketch

_LENGTH = struct.Struct(">I")


def _key(master_key: bytes, project_id: str) -> bytes:
    return crypto.derive_key(master_key, f"sluis:sketches:project:{project_id}")


def _aad(project_id: str, query_id: str) -> bytes:
    return f"sketches:{project_id}:{query_id}".encode()


def seal_sketches(
    master_key: bytes, project_id: str, query_id: str, sketches: Sequence[EntitySketch | bytes]
) -> bytes:
    """Length-prefixed sketches, encrypted and bound to the project and query."""
    raw = (s if isinstance(s, bytes) else s.to_bytes() for s in sketches)
    plain = b"".join(_LENGTH.pack(len(b)) + b for b in raw)
    return crypto.encrypt(_key(master_key, project_id), plain, aad=_aad(project_id, query_id))


def open_sketches(master_key: bytes, row: ReleasedSketch) -> list[bytes]:
    """The serialised sketches of one stored release.

    DecryptionFailed if tampered or the key is wrong. Left as bytes: the
    differencing check parses them in bulk, faster.
    """
    plain = crypto.decrypt(
        _key(master_key, row.project_id), row.blob, aad=_aad(row.project_id, row.query_id)
    )
    out, at = [], 0
    while at < len(plain):
        (size,) = _LENGTH.unpack_from(plain, at)
        at += _LENGTH.size
        out.append(plain[at : at + size])
        at += size
    return out


def record_sketches(
    s: Session,
    master_key: bytes,
    project_id: str,
    query_id: str,
    sketches: Sequence[EntitySketch],
) -> None:
    """Keep the sketches of a query's released rows for later differencing checks."""
    if not sketches:
        return
    blob = seal_sketches(master_key, project_id, query_id, sketches)
    s.add(ReleasedSketch(query_id=query_id, project_id=project_id, rows=len(sketches), blob=blob))


def released_sketches(s: Session, master_key: bytes, project_id: str) -> list[bytes]:
    """Every sketch the project has released so far (serialised)."""
    rows = s.scalars(select(ReleasedSketch).where(ReleasedSketch.project_id == project_id))
    return [sketch for row in rows for sketch in open_sketches(master_key, row)]


def reseal_all(s: Session, old_master: bytes, new_master: bytes) -> int:
    """Re-encrypt every stored sketch under a new master key (key rotation); returns the count."""
    count = 0
    for row in s.scalars(select(ReleasedSketch)):
        sketches = open_sketches(old_master, row)
        row.blob = seal_sketches(new_master, row.project_id, row.query_id, sketches)
        count += 1
    return count


def charges(s: Session, project_id: str) -> list[Charge]:
    """Every charge against the project's budget, oldest first."""
    rows = s.scalars(
        select(PrivacySpend)
        .where(PrivacySpend.project_id == project_id)
        .order_by(PrivacySpend.created_at)
    )
    return [Charge(row.query_id, row.epsilon) for row in rows]


def charge(s: Session, project_id: str, query_id: str, epsilon: float) -> None:
    """Record a charge (the caller checked the budget inside the same write transaction)."""
    s.add(PrivacySpend(query_id=query_id, project_id=project_id, epsilon=epsilon))
