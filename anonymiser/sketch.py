"""Entity-set sketches: an invertible Bloom lookup table (IBLT) over one result row's entities.

Subtracting two sketches and peeling the difference yields the sizes of both
set differences when they are small, which is what differencing protection
(:mod:`anonymiser.differencing`) needs. The layout is a contract with the query
engine, which computes sketches in SQL (DuckDB and Spark must agree):

- ``s`` = the entity value as VARCHAR; ``m`` = md5(s) in lowercase hex;
  ``h = int(m[0:15], 16)`` (60 bits).
- check ``g(h) = (lo * (hi | 1)) XOR h`` with ``hi = h >> 30`` and
  ``lo = h & (2**30 - 1)`` (60 bits). One BIGINT product that never overflows,
  so SQL computes it per entity about as cheaply as it reads a column; the
  product makes it non-linear under XOR, which a check must be: a mixed
  bucket's key is the XOR of several keys, and an XOR-linear check would pass
  it as pure every time.
- 2 sub-tables of 32 buckets: ``bucket_j(h) = j*32 + ((h >> (6*j)) & 31)``.
- per bucket ``(count, key_xor, check_xor)`` over the row's distinct entities;
  empty buckets may be left out; ``n`` is the row's distinct-entity count.

Both sub-tables read 10 bits of ``h`` (``h & 0x7DF``), so the engine aggregates each
row's entities once into at most 1024 partial buckets and rolls those up into both
sub-tables, in the same pass as the row's other statistics; more partial buckets
made that pass markedly slower. The price is capacity: a difference of 9 entities
fails to decode about 3 times in 100, of 20 about 1 in 5. A failed decode is safe:
:meth:`EntitySketch.min_difference` still bounds the difference from below (in
simulations the bound stayed at or above min_entities for every difference of
min_entities + 10 or more, for min_entities 10, 20 and 50), and a difference not
proven large enough is treated as small (the row is suppressed).

Stored sketches of the first layout (version 1: three sub-tables of 64 buckets over
bits 0-5, 6-11 and 12-17, checks from md5) are read into this one: their first two
sub-tables fold onto these (bucket ``i`` and ``i + 32`` merge), the third is dropped.
Their checks cannot be converted, so such a sketch is *unchecked*: compared with it,
no bucket counts as pure, nothing is peeled, and the difference is only bounded
from below by its non-empty buckets (each holds at least one differing entity).
That errs towards suppression, never towards release.
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BUCKETS_PER_TABLE",
    "SUB_TABLES",
    "WIDTH",
    "EntitySketch",
    "SketchArrays",
    "entity_hash",
]

SUB_TABLES: Final = 2
BUCKETS_PER_TABLE: Final = 32
WIDTH: Final = SUB_TABLES * BUCKETS_PER_TABLE
_MASK: Final = BUCKETS_PER_TABLE - 1
_STRIDE: Final = 6  # sub-table j reads the 5 bits of h from bit 6*j
_KEY_MAX: Final = 1 << 60
# Serialisation: a header (version, n, bucket count), then one fixed-size record
# per non-empty bucket, so many sketches parse in one vectorised pass.
_VERSION: Final = 2
_V1_BUCKETS: Final = 64  # version 1: three sub-tables of 64 buckets
_HEADER: Final = struct.Struct(">BqH")
_RECORD: Final = np.dtype([("index", "u1"), ("count", ">i4"), ("key", ">u8"), ("check", ">u8")])
_RECORD_STRUCT: Final = struct.Struct(">BiQQ")  # the same record, for one sketch at a time
_INT32: Final = 1 << 31
_COUNT_MAX: Final = 1 << 62  # keeps n and counts inside int64 arrays and the stored header

Bucket = tuple[int, int, int]


def entity_hash(entity: str) -> int:
    """The 60-bit key of one entity: the first 15 hex digits of md5 of its text."""
    return int(hashlib.md5(entity.encode("utf-8"), usedforsecurity=False).hexdigest()[:15], 16)


_LOW30: Final = (1 << 30) - 1


def _check(key: int) -> int:
    # The product of the key's halves is not XOR-linear, so a mixed bucket (whose key
    # and check are XORs of several) passes as "pure" only by coincidence of 60 bits.
    return ((key & _LOW30) * ((key >> 30) | 1)) ^ key


def _bucket_indices(key: int) -> tuple[int, int]:
    return (key & _MASK, BUCKETS_PER_TABLE + ((key >> _STRIDE) & _MASK))


def _is_pure(index: int, bucket: Bucket) -> bool:
    count, key, check = bucket
    return (
        count in (1, -1)
        and 0 <= key < _KEY_MAX
        and _bucket_indices(key)[index // BUCKETS_PER_TABLE] == index
        and _check(key) == check
    )


@dataclass(frozen=True)
class _Peeled:
    plus: int  # elements of A \ B recovered
    minus: int  # elements of B \ A recovered
    rest: dict[int, list[int]]  # buckets left non-empty (empty when fully decoded)


@dataclass(frozen=True)
class EntitySketch:
    """An IBLT over one row's distinct entities (or the difference of two such sets).

    ``buckets`` maps a bucket index (0..63) to ``(count, key_xor, check_xor)``;
    all-zero buckets are dropped so equal sets give equal sketches. A sketch
    from :meth:`subtract` may hold negative counts and ``n``. ``checked`` is
    False for a sketch read from the first layout, whose checks are unusable
    (they are zeroed): it and any difference with it decode nothing.
    """

    n: int
    buckets: Mapping[int, Bucket] = field(default_factory=dict)
    checked: bool = True

    def __post_init__(self) -> None:
        """Validate and freeze the buckets; a malformed sketch is rejected, never guessed at."""
        if not (isinstance(self.n, int) and abs(self.n) < _COUNT_MAX):
            raise ValueError("sketch entity count out of range")
        clean: dict[int, Bucket] = {}
        totals = [0] * SUB_TABLES
        for index, bucket in self.buckets.items():
            if type(index) is not int or not 0 <= index < WIDTH or len(bucket) != 3:
                raise ValueError("sketch bucket outside the layout")
            count, key, check = bucket
            if not (type(count) is int and type(key) is int and type(check) is int):
                # numpy integers are fine, floats and strings are not
                count, key, check = (operator.index(v) for v in bucket)
            if not (
                0 <= key < _KEY_MAX and 0 <= check < _KEY_MAX and -_COUNT_MAX < count < _COUNT_MAX
            ):
                raise ValueError("sketch bucket out of range")
            totals[index // BUCKETS_PER_TABLE] += count
            check = check if self.checked else 0
            if count or key or check:
                clean[index] = (count, key, check)
        # Every entity sits in exactly one bucket per sub-table.
        if any(total != self.n for total in totals):
            raise ValueError("sketch bucket counts do not add up to n")
        object.__setattr__(self, "buckets", MappingProxyType(dict(sorted(clean.items()))))

    def __hash__(self) -> int:
        """Hash by content, so sketches can key dicts and sets."""
        return hash((self.n, self.checked, tuple(self.buckets.items())))

    def __eq__(self, other: object) -> bool:
        """Equal when they describe the same (difference of) entity sets."""
        if not isinstance(other, EntitySketch):
            return NotImplemented
        return (
            self.n == other.n
            and self.checked == other.checked
            and dict(self.buckets) == dict(other.buckets)
        )

    @classmethod
    def from_entities(cls, entities: Iterable[str]) -> EntitySketch:
        """The sketch of a set of entity strings (the reference for the engine's SQL)."""
        return cls.from_keys({entity_hash(e) for e in entities})

    @classmethod
    def from_keys(cls, keys: Iterable[int]) -> EntitySketch:
        """The sketch of a set of 60-bit entity keys (see :func:`entity_hash`)."""
        table: dict[int, list[int]] = {}
        n = 0
        for key in set(keys):
            n += 1
            check = _check(key)
            for index in _bucket_indices(key):
                bucket = table.setdefault(index, [0, 0, 0])
                bucket[0] += 1
                bucket[1] ^= key
                bucket[2] ^= check
        return cls(n, {i: (b[0], b[1], b[2]) for i, b in table.items()})

    def subtract(self, other: EntitySketch) -> EntitySketch:
        """The sketch of the difference: A's entities count +1, B's -1, shared ones cancel."""
        merged = dict(self.buckets)
        for index, (count, key, check) in other.buckets.items():
            mine = merged.get(index, (0, 0, 0))
            merged[index] = (mine[0] - count, mine[1] ^ key, mine[2] ^ check)
        # Against an unchecked sketch the checks mean nothing (they are zeroed).
        return EntitySketch(self.n - other.n, merged, self.checked and other.checked)

    def difference(self) -> tuple[int, int] | None:
        """Sizes of (A - B, B - A) of a subtracted sketch; None when it does not decode.

        A decode is accepted only when every bucket empties and the recovered
        sizes agree with ``n``; a mixed bucket passes for a single entity only
        if its 60-bit check hash matches by chance, so a wrong answer is
        practically impossible. None means the sets differ by more than the
        sketch holds (a few in a hundred differences of 9 entities fail, one in
        five of 20) or, rarely, by a few entities that collide in both
        sub-tables: use :meth:`min_difference` to tell these apart.
        """
        peeled = self._peel()
        if peeled.rest or peeled.plus - peeled.minus != self.n:
            return None
        return (peeled.plus, peeled.minus)

    def min_difference(self) -> int:
        """A lower bound on |A - B| + |B - A|, exact when the difference decodes.

        When peeling stops, each remaining non-empty bucket holds at least one
        entity of the difference and, being impure, at least two (unchecked:
        one, purity cannot be told); each sub-table holds every remaining entity
        once, and the sizes of the two differences differ by exactly ``n``.
        """
        peeled = self._peel()
        if not peeled.rest and peeled.plus - peeled.minus == self.n:
            return peeled.plus + peeled.minus
        per_table = [0] * SUB_TABLES
        for index, bucket in peeled.rest.items():
            count, key, check = bucket
            least = 1 if not self.checked or _is_pure(index, (count, key, check)) else 2
            per_table[index // BUCKETS_PER_TABLE] += max(abs(count), least)
        return max(abs(self.n), peeled.plus + peeled.minus + max(per_table))

    def _peel(self) -> _Peeled:
        work = {i: list(b) for i, b in self.buckets.items()}
        # Unchecked, a mixed bucket cannot be told from a pure one: peel nothing.
        queue = [i for i, b in self.buckets.items() if _is_pure(i, b)] if self.checked else []
        seen: set[int] = set()
        plus = minus = 0
        while queue:
            index = queue.pop()
            bucket = work.get(index)
            if bucket is None or not _is_pure(index, (bucket[0], bucket[1], bucket[2])):
                continue
            sign, key = bucket[0], bucket[1]
            if key in seen:  # a key peeled twice: the sketch is inconsistent; stop here
                break
            seen.add(key)
            check = _check(key)
            for j in _bucket_indices(key):
                cell = work.setdefault(j, [0, 0, 0])
                cell[0] -= sign
                cell[1] ^= key
                cell[2] ^= check
                if cell == [0, 0, 0]:
                    del work[j]
                elif _is_pure(j, (cell[0], cell[1], cell[2])):
                    queue.append(j)
            if sign > 0:
                plus += 1
            else:
                minus += 1
        return _Peeled(plus, minus, work)

    def to_bytes(self) -> bytes:
        """A compact, versioned binary form (for the gateway's encrypted store)."""
        if any(not -_INT32 <= b[0] < _INT32 for b in self.buckets.values()):
            raise ValueError("sketch bucket count too large to store")
        records = b"".join(
            _RECORD_STRUCT.pack(index, *bucket) for index, bucket in self.buckets.items()
        )
        return _HEADER.pack(_VERSION, self.n, len(self.buckets)) + records

    @classmethod
    def from_bytes(cls, data: bytes) -> EntitySketch:
        """Read :meth:`to_bytes` output; raises ValueError on anything malformed."""
        if len(data) < _HEADER.size:
            raise ValueError("malformed sketch bytes: too short")
        version, n, length = _HEADER.unpack_from(data)
        if version not in (1, _VERSION) or len(data) != _HEADER.size + length * _RECORD.itemsize:
            raise ValueError("malformed sketch bytes: version or length")
        buckets: dict[int, Bucket] = {}
        seen: set[int] = set()
        for index, count, key, check in _RECORD_STRUCT.iter_unpack(data[_HEADER.size :]):
            if index in seen:
                raise ValueError("malformed sketch bytes: a bucket listed twice")
            seen.add(index)
            if version == 1:
                if index >= 3 * _V1_BUCKETS:
                    raise ValueError("malformed sketch bytes: a bucket outside the layout")
                if index >= 2 * _V1_BUCKETS:
                    continue  # version 1's third sub-table
                # Version 1's bucket i of sub-table j holds bits 6j.. of h: fold i and i + 32.
                index = (index // _V1_BUCKETS) * BUCKETS_PER_TABLE + (index & _MASK)
                mine = buckets.get(index, (0, 0, 0))
                count, key, check = mine[0] + count, mine[1] ^ key, 0  # md5 checks: unusable
            buckets[index] = (count, key, check)
        return cls(n, buckets, checked=version != 1)


Int64Array = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SketchArrays:
    """Many sketches as dense arrays (one row per sketch, one column per bucket).

    What the differencing rule's vectorised filter reads; ``valid`` is False
    for a sketch whose bytes were malformed (its row is then all zeros),
    ``checked`` False for one of the first layout (see :class:`EntitySketch`).
    """

    ns: Int64Array
    counts: Int64Array
    keys: Int64Array
    checks: Int64Array
    valid: npt.NDArray[np.bool_]
    checked: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        """Number of sketches."""
        return len(self.ns)

    @classmethod
    def parse(cls, items: Sequence[EntitySketch | bytes]) -> SketchArrays:
        """Parse sketches or their bytes in one pass; malformed bytes give an invalid row."""
        size = len(items)
        valid = np.ones(size, dtype=np.bool_)
        ns = np.zeros(size, dtype=np.int64)
        bodies: list[bytes] = []
        lengths: list[int] = []
        rows: list[int] = []
        direct: list[tuple[int, EntitySketch]] = []
        for row, item in enumerate(items):
            if isinstance(item, EntitySketch):  # validated already: no need to go through bytes
                direct.append((row, item))
                continue
            blob = bytes(item)
            if len(blob) < _HEADER.size:
                valid[row] = False
                continue
            version, n, length = _HEADER.unpack_from(blob)
            if version == 1:  # stored by the first layout: converted one at a time
                try:
                    direct.append((row, EntitySketch.from_bytes(blob)))
                except ValueError:
                    valid[row] = False
                continue
            if version != _VERSION or len(blob) != _HEADER.size + length * _RECORD.itemsize:
                valid[row] = False
                continue
            ns[row] = n
            bodies.append(blob[_HEADER.size :])
            lengths.append(length)
            rows.append(row)
        records = np.frombuffer(b"".join(bodies), dtype=_RECORD)
        owner = np.repeat(np.array(rows, dtype=np.int64), lengths)
        index = records["index"].astype(np.int64)
        key = records["key"].astype(np.uint64)
        check = records["check"].astype(np.uint64)
        bad = (index >= WIDTH) | (key >= _KEY_MAX) | (check >= _KEY_MAX)
        valid[owner[bad]] = False
        # A bucket listed twice is malformed.
        slot = owner * WIDTH + np.minimum(index, WIDTH - 1)
        unique, seen = np.unique(slot, return_counts=True)
        valid[unique[seen > 1] // WIDTH] = False
        ok = valid[owner]
        shape = (size, WIDTH)
        counts = np.zeros(shape, dtype=np.int64)
        keys = np.zeros(shape, dtype=np.int64)
        checks = np.zeros(shape, dtype=np.int64)
        counts[owner[ok], index[ok]] = records["count"][ok]
        keys[owner[ok], index[ok]] = key[ok].astype(np.int64)
        checks[owner[ok], index[ok]] = check[ok].astype(np.int64)
        checked = np.ones(size, dtype=np.bool_)
        for row, sketch in direct:
            ns[row] = sketch.n
            checked[row] = sketch.checked
            if sketch.buckets:
                used = list(sketch.buckets)
                values = list(sketch.buckets.values())
                counts[row, used] = [b[0] for b in values]
                keys[row, used] = [b[1] for b in values]
                checks[row, used] = [b[2] for b in values]
        # Every entity sits in exactly one bucket per sub-table.
        totals = counts.reshape(size, SUB_TABLES, BUCKETS_PER_TABLE).sum(axis=2)
        valid &= (totals == ns[:, None]).all(axis=1)
        for array in (ns, counts, keys, checks):
            array[~valid] = 0
        return cls(ns, counts, keys, checks, valid, checked)

    def sketch(self, row: int) -> EntitySketch:
        """The sketch in one row."""
        used = np.flatnonzero(self.counts[row] | self.keys[row] | self.checks[row])
        columns = zip(
            self.counts[row, used].tolist(),
            self.keys[row, used].tolist(),
            self.checks[row, used].tolist(),
            strict=True,
        )
        buckets = dict(zip(used.tolist(), columns, strict=True))
        return EntitySketch(int(self.ns[row]), buckets, bool(self.checked[row]))
