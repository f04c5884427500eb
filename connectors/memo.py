"""A bounded, in-memory memo of value -> digest for one ingest, vectorised in numpy.

The ingest hashes identifiers batch by batch, and a person recurs across
batches: a memo turns the HMAC of a value seen before into a table lookup.
A Python dict would cost ~150 bytes an entry and a Python call per value.
Here each entry is one fixed-size row of 64-bit words (the value's length,
its bytes zero-padded, its digest) behind an open-addressing hash table, and
a whole batch is looked up with a few dozen numpy operations (linear probing
in rounds). Arrow's ``index_in`` is no substitute: it rebuilds a hash set of
every known value on each call, which costs more than the HMAC it saves.

Exact: a hash only names a candidate row, whose length and bytes are then
compared. A value whose candidate turns out to be another value (a hash
collision), or whose probe runs unusually long, is hashed each time and not
remembered.

Bounded: rows are as wide as the values of the first batch need (longer
values are hashed each time), and entries stop being added at
``max_entries`` or when rows and table would pass ``max_bytes``; known values
still hit. The rows are reserved up front but only touched as they fill.
Adaptive: when hardly anything hits (all-distinct data) the memo switches
itself off and frees its memory. It lives only in memory; nothing here logs
or writes a value.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pyarrow as pa

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "MAX_VALUE_BYTES", "DigestMemo"]

DEFAULT_MAX_ENTRIES = 4_000_000
DEFAULT_MAX_BYTES = 128 << 20  # ~2.1M nine-digit BSNs; a 5 GB ingest stays well under 1 GiB
MAX_VALUE_BYTES = 256  # longer values are hashed each time (identifiers are short)
# Adaptive switch-off: once PROBE_VALUES values were looked up, a window of
# WINDOW_VALUES lookups with fewer than MIN_HIT_SHARE hits turns the memo off.
PROBE_VALUES = 1 << 20
WINDOW_VALUES = 1 << 18
MIN_HIT_SHARE = 0.02

_U8 = npt.NDArray[np.uint8]
_U64 = npt.NDArray[np.uint64]
_I64 = npt.NDArray[np.int64]

_WORD = 8
_MAX_LOAD = 0.5  # at least two table slots per entry: short probe sequences
_FIRST_SLOTS = 1 << 12
_MAX_ROUNDS = 12  # probe rounds of a lookup (at load 0.5, ~0.1 % of values need more)
_WIDTH_QUANTILE = 0.999  # rows fit this share of the first batch's values
_ALL = np.uint64(2**64 - 1)
_EMPTY = _ALL  # a free slot: an entry's low half is below 2**31
_LOW = np.uint64(2**32 - 1)
_HALF = np.uint64(32)
# In a value's hash, word k is multiplied by an odd constant to the power k + 1
# (odd: no bit is lost), the length by _LENGTH_MIX.
_LENGTH_MIX = np.uint64(0x9E3779B97F4A7C15)
with np.errstate(over="ignore"):
    _POWERS = np.cumprod(
        np.full(MAX_VALUE_BYTES // _WORD, 0xC2B2AE3D27D4EB4F, dtype=np.uint64), dtype=np.uint64
    )


class DigestMemo:
    """Remembers fixed-size digests of string values, within bounds, while it pays.

    :meth:`digests` returns the digest of each value of a batch, taking known
    values' digests from memory and computing the rest with the given function.
    """

    def __init__(
        self,
        width: int,
        *,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        if width < 1 or max_entries < 0 or max_bytes < 0:
            raise ValueError("digest width must be positive and the bounds not negative")
        self.width = width
        self.max_entries = min(max_entries, 2**31 - 1)  # an entry number fits a table half
        self.max_bytes = max_bytes
        self.active = True
        self.looked_up = 0  # values looked up, and hits, over the memo's life
        self.hits = 0
        self._window_looked_up = 0
        self._window_hits = 0
        self._value_words = 0  # words of value per row: fixed by the first batch
        self._digest_words = -(-width // _WORD)
        self._size = 0
        # Row i: [length, value words..., digest words...]. Its table item is
        # tag << 32 | i, the tag being the low 32 bits of the value's hash; the
        # top bits pick the value's first slot, so the two are independent.
        self._rows: _U64 = np.empty((0, 1 + self._digest_words), np.uint64)
        self._table: _U64 = np.empty(0, np.uint64)

    def __len__(self) -> int:
        return self._size

    def __repr__(self) -> str:  # statistics only, never a value
        return f"DigestMemo(entries={self._size}, nbytes={self.nbytes}, active={self.active})"

    @property
    def capacity(self) -> int:
        """Entries the memo can hold (0 until the first batch fixes the row width)."""
        return len(self._rows)

    @property
    def nbytes(self) -> int:
        """Bytes reserved for rows and table: what ``max_bytes`` bounds."""
        return int(self._rows.nbytes + self._table.nbytes)

    def digests(self, values: pa.Array, compute: Callable[[pa.Array], _U8]) -> _U8:
        """The digest of each of ``values`` (distinct strings, no nulls), a row each.

        ``compute`` digests an array of values: it gets the values not remembered,
        and its results are remembered while the bounds allow.
        """
        count = len(values)
        if not self.active or count == 0 or values.type != pa.string() or values.null_count:
            return compute(values)
        offsets = np.frombuffer(values.buffers()[1], np.int32, count + 1, values.offset * 4)
        lengths = np.diff(offsets).astype(np.int64)
        if self._value_words == 0:
            self._start(lengths)
        fits = lengths <= self._value_words * _WORD
        if not fits.all():  # longer than a row holds: hashed each time, never remembered
            split = np.empty((count, self.width), np.uint8)
            split[fits] = self.digests(values.filter(pa.array(fits)), compute)
            split[~fits] = compute(values.filter(pa.array(~fits)))
            self._count(int((~fits).sum()), 0)
            return split
        keys = self._keys(values, offsets, lengths)
        hashes = _hash(keys)
        found, taken, digest_words, ends = self._find(hashes, keys)
        missing = np.flatnonzero(found < 0)
        if len(missing):
            fresh = np.zeros((len(missing), self._digest_words * _WORD), np.uint8)
            fresh[:, : self.width] = compute(values.take(pa.array(missing)))
            fresh_words = fresh.view(np.uint64)
            digest_words[missing] = fresh_words
            new = ~taken[missing]  # a collision with another value's tag: not remembered
            if new.any():
                rows = missing[new]
                keys = np.take(keys, rows, axis=0)
                self._add(hashes[rows], keys, fresh_words[new], ends[rows])
        self._count(count, count - len(missing))
        result: _U8 = digest_words.view(np.uint8)[:, : self.width]
        return result

    def _start(self, lengths: _I64) -> None:
        """Fix the row width from the first batch, and reserve the rows the bounds allow."""
        typical = int(np.quantile(lengths, _WIDTH_QUANTILE, method="higher"))
        self._value_words = max(1, -(-min(typical, MAX_VALUE_BYTES) // _WORD))
        row_bytes = (1 + self._value_words + self._digest_words) * _WORD
        low, high = 0, min(self.max_entries, self.max_bytes // row_bytes)
        while low < high:  # the most entries whose rows and full table fit max_bytes
            middle = (low + high + 1) // 2
            if middle * row_bytes + _slots(middle) * _WORD <= self.max_bytes:
                low = middle
            else:
                high = middle - 1
        # np.empty only reserves: pages are touched (resident) as rows are added.
        self._rows = np.empty((low, 1 + self._value_words + self._digest_words), np.uint64)

    def _keys(self, values: pa.Array, offsets: npt.NDArray[np.int32], lengths: _I64) -> _U64:
        """Each value as a row of [length, zero-padded little-endian 8-byte words]."""
        first, last = int(offsets[0]), int(offsets[-1])
        keys = np.empty((len(lengths), 1 + self._value_words), np.uint64)
        keys[:, 0] = lengths
        size = int(lengths[0]) if len(lengths) else 0
        data_buffer = values.buffers()[2]
        if size and data_buffer is not None and bool((lengths == size).all()):
            # All values as long (BSNs, IBANs): the data is a matrix of them, copied
            # into zeroed rows at once. The same words as below, about 4x faster.
            padded = np.zeros((len(lengths), self._value_words * _WORD), np.uint8)
            same = np.frombuffer(data_buffer, np.uint8, last - first, first)
            padded[:, :size] = same.reshape(-1, size)
            keys[:, 1:] = padded.view("<u8")
            return keys
        data = np.zeros(last - first + _WORD, np.uint8)  # padded: a word may start anywhere
        if last > first and data_buffer is not None:
            data[: last - first] = np.frombuffer(data_buffer, np.uint8, last - first, first)
        at = np.ndarray((last - first + 1,), "<u8", data, 0, (1,))  # the word at each byte
        starts = offsets[:-1].astype(np.int64) - first
        for word in range(self._value_words):
            left = lengths - word * _WORD  # bytes of the value from this word on
            bits = (np.clip(left, 0, _WORD - 1) * 8).astype(np.uint64)
            keep = np.where(left >= _WORD, _ALL, (np.uint64(1) << bits) - np.uint64(1))
            keys[:, 1 + word] = at[np.minimum(starts + word * _WORD, last - first)] & keep
        return keys

    def _find(self, hashes: _U64, keys: _U64) -> tuple[_I64, npt.NDArray[np.bool_], _U64, _I64]:
        """Look values up, all at once.

        Returns the row of each value or -1, whether a row holds its tag, digest
        words for each value (those of a value not found are to be filled in),
        and the empty slot each probe ended at or -1.
        """
        count = len(hashes)
        found = np.full(count, -1, np.int64)
        if self._size == 0:
            return found, found >= 0, np.empty((count, self._digest_words), np.uint64), found.copy()
        tags = hashes & _LOW
        slots, mask = self._first_slots(hashes), len(self._table) - 1
        # Linear probing, all values at once: each round looks at one slot per value
        # still open, until its tag or an empty slot turns up (~1.5 rounds at load
        # 0.5). The rare value still open after _MAX_ROUNDS is treated as unknown.
        held = self._table[slots]
        empty = held == _EMPTY
        same = ~empty & ((held >> _HALF) == tags)
        found = np.where(same, (held & _LOW).astype(np.int64), -1)
        ends = np.where(empty, slots, -1)  # where a new value can go (see _add)
        open_ = np.flatnonzero(~empty & ~same)
        tags, slots = tags[open_], (slots[open_] + 1) & mask
        for _round in range(_MAX_ROUNDS):
            if not len(open_):
                break
            held = self._table[slots]
            empty = held == _EMPTY
            same = ~empty & ((held >> _HALF) == tags)
            found[open_[same]] = (held[same] & _LOW).astype(np.int64)
            ends[open_[empty]] = slots[empty]
            going = ~empty & ~same
            open_, tags, slots = open_[going], tags[going], (slots[going] + 1) & mask
        taken = found >= 0
        taken[open_] = True  # maybe known further on: hashed, but not added twice
        # The tag only names a candidate: its row must hold the same length and bytes.
        # (Rows for all values, row 0 standing in for those without a candidate:
        # one gather, no compaction. np.take is much faster than rows[...] here.)
        rows = np.take(self._rows, np.maximum(found, 0), axis=0)
        equal = found >= 0
        for word in range(keys.shape[1]):
            equal &= rows[:, word] == keys[:, word]
        found[~equal] = -1
        return found, taken, rows[:, keys.shape[1] :], ends

    def _first_slots(self, hashes: _U64) -> _I64:
        """Each hash's first slot in the table: its top bits."""
        bits = len(self._table).bit_length() - 1
        slots: _I64 = (hashes >> np.uint64(64 - bits)).astype(np.int64)
        return slots

    def _add(self, hashes: _U64, keys: _U64, digest_words: _U64, ends: _I64) -> None:
        """Remember these values (keys and digests), as many as the room allows.

        ``ends``: the empty slot where each value's lookup ended (-1: none), where
        its placing can start, as the table has only filled up since.
        """
        count = min(len(hashes), len(self._rows) - self._size)
        if count <= 0:
            return
        size, end = self._size, self._size + count
        if _slots(end) > len(self._table):  # rehash what is known into a larger table
            # Room for four times as many entries: fewer rehashes, never past the bound.
            slots = min(_slots(4 * end), _slots(len(self._rows)))
            held = self._table[self._table != _EMPTY]
            entries = (held & _LOW).astype(np.int64)
            known = _hash(np.take(self._rows, entries, axis=0)[:, : keys.shape[1]])
            self._table = np.full(slots, _EMPTY, np.uint64)
            self._place(held, self._first_slots(known))
            ends = np.full(count, -1, np.int64)
        self._rows[size:end, : keys.shape[1]] = keys[:count]
        self._rows[size:end, keys.shape[1] :] = digest_words[:count]
        self._size = end
        items = ((hashes[:count] & _LOW) << _HALF) | np.arange(size, end, dtype=np.uint64)
        first = self._first_slots(hashes[:count])
        self._place(items, np.where(ends[:count] >= 0, ends[:count], first))

    def _place(self, items: _U64, slots: _I64) -> None:
        """Put tagged entries in the table, each in the first free slot of its probe.

        ``slots``: where each probe starts, the entry's first slot or a later one
        of its probe with every slot before it taken.
        """
        mask = len(self._table) - 1
        while len(items):
            free = self._table[slots] == _EMPTY
            # Several entries may want one free slot: write all, read back who got it.
            self._table[slots[free]] = items[free]
            placed = free.copy()
            placed[free] = self._table[slots[free]] == items[free]
            # Losers stay: their slot is taken now, so they move on in the next round.
            slots = np.where(free, slots, (slots + 1) & mask)[~placed]
            items = items[~placed]

    def _count(self, looked_up: int, hits: int) -> None:
        """Keep hit statistics; switch off when a recent window hardly hit."""
        self.looked_up += looked_up
        self.hits += hits
        self._window_looked_up += looked_up
        self._window_hits += hits
        if self._window_looked_up < WINDOW_VALUES:
            return
        share = self._window_hits / self._window_looked_up
        self._window_looked_up = self._window_hits = 0
        if self.looked_up >= PROBE_VALUES and share < MIN_HIT_SHARE:
            self.close()

    def close(self) -> None:
        """Forget everything and stop remembering: later calls only compute."""
        self.active = False
        self._size = 0
        self._rows = self._rows[:0].copy()
        self._table = np.empty(0, np.uint64)


def _slots(entries: int) -> int:
    """Table slots for so many entries: a power of two, load at most _MAX_LOAD."""
    wanted = max(_FIRST_SLOTS, int(np.ceil(entries / _MAX_LOAD)))
    return 1 << (wanted - 1).bit_length()


def _hash(keys: _U64) -> _U64:
    """A 64-bit hash of each key row (length, then value words)."""
    with np.errstate(over="ignore"):
        h = keys[:, 0] * _LENGTH_MIX
        for word in range(1, keys.shape[1]):
            h += keys[:, word] * _POWERS[word - 1]
        # MurmurHash3's finaliser: every input bit moves about half the output bits.
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB93FE53C5D11)
        h ^= h >> np.uint64(33)
    return h
