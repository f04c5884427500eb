"""The cross-batch pseudonym memo: same pseudonyms as without it, bounded, adaptive."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pytest
from connectors_factories import bsn_with_check_digit
from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.memo
from connectors.memo import DigestMemo
from connectors.pipeline import IngestOptions, ingest_file, read_dataset
from connectors.plan import Column, column_pseudonymisers
from connectors.pseudonym import Pseudonymiser, stage1_key
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta

KEY = b"k" * 32
MASTER = b"m" * 32
AAD = b"dataset:1:v1"

Batches = list[list[str | None]]


def pseudonyms(pseudonymiser: Pseudonymiser, batches: Batches) -> list[list[str | None]]:
    """Each batch through the pipeline's path: normalise, then hash_encoded."""
    out = []
    for batch in batches:
        encoded = Pseudonymiser.normalise(pa.array(batch, pa.string()))
        out.append(pseudonymiser.hash_encoded(encoded).to_pylist())
    return out


class Counting:
    """Wraps Pseudonymiser._raw_digests (the HMAC routine): how many values it hashed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.values = 0
        self.calls = 0
        original = Pseudonymiser._raw_digests

        def counted(pseudonymiser: Pseudonymiser, messages: pa.Array) -> npt.NDArray[np.uint8]:
            self.values += len(messages)
            self.calls += 1
            return original(pseudonymiser, messages)

        monkeypatch.setattr(Pseudonymiser, "_raw_digests", counted)


# A small alphabet so batches repeat each other's values; unicode and whitespace
# so normalising (upper-casing, stripping) merges some of them.
VALUE = st.one_of(
    st.none(),
    st.text(alphabet="ab1 \u00e9\u00df\u00a0\u4e2d", max_size=6),
    st.text(max_size=40),
)
BATCHES = st.lists(st.lists(VALUE, max_size=25), max_size=8)


@settings(max_examples=150, deadline=None)
@given(BATCHES, st.sampled_from([0, 1, 3, 10, 4_000_000]))
def test_memoised_pseudonyms_equal_direct_ones(batches: Batches, max_entries: int) -> None:
    plain = Pseudonymiser(KEY)
    memoised = plain.memoised(max_entries=max_entries)
    assert pseudonyms(memoised, batches) == pseudonyms(plain, batches)
    memo = memoised.memo
    assert memo is not None and len(memo) <= max_entries


@settings(max_examples=50, deadline=None)
@given(BATCHES)
def test_collisions_stay_exact(batches: Batches) -> None:
    # Every value lands on one of four hashes: lookups must compare the values.
    original = connectors.memo._hash
    try:
        connectors.memo._hash = lambda keys: original(keys) & np.uint64(3)
        memoised = Pseudonymiser(KEY).memoised()
        assert pseudonyms(memoised, batches) == pseudonyms(Pseudonymiser(KEY), batches)
    finally:
        connectors.memo._hash = original


def test_each_distinct_value_is_hashed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    values = [f"{i:09d}" for i in range(3000)]
    rng = random.Random(5)
    batches: Batches = [[rng.choice(values) for _ in range(2000)] for _ in range(12)]
    distinct = {v for batch in batches for v in batch}
    counting = Counting(monkeypatch)
    memoised = Pseudonymiser(KEY).memoised()
    assert pseudonyms(memoised, batches) == pseudonyms(Pseudonymiser(KEY), batches)
    memo = memoised.memo
    assert memo is not None and memo.active and len(memo) == len(distinct)
    assert memo.hits == memo.looked_up - len(distinct)
    # Hashed once each with the memo, then once per batch each without it.
    per_batch = sum(len(set(batch)) for batch in batches)
    assert counting.values == len(distinct) + per_batch


def test_values_normalised_alike_share_an_entry() -> None:
    memoised = Pseudonymiser(KEY).memoised()
    first, second = pseudonyms(memoised, [["1234 ab", "x"], [" 1234AB\u00a0", "1234\tAb"]])
    assert first[0] == second[0] == second[1]
    assert memoised.memo is not None and len(memoised.memo) == 2


def test_byte_cap_is_respected_and_results_stay_right() -> None:
    memoised = Pseudonymiser(KEY).memoised(max_bytes=200_000)
    memo = memoised.memo
    assert memo is not None
    batches: Batches = [[f"{i:09d}" for i in range(j * 1000, j * 1000 + 3000)] for j in range(8)]
    assert pseudonyms(memoised, batches) == pseudonyms(Pseudonymiser(KEY), batches)
    assert 0 < len(memo) == memo.capacity < 10_000
    assert memo.nbytes <= 200_000
    # Known values still hit once the memo is full; new ones are hashed, not added.
    looked_up, hits = memo.looked_up, memo.hits
    assert pseudonyms(memoised, batches[:1]) == pseudonyms(Pseudonymiser(KEY), batches[:1])
    assert memo.hits - hits == min(3000, len(memo)) and memo.looked_up - looked_up == 3000


def test_entry_cap_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    counting = Counting(monkeypatch)
    memoised = Pseudonymiser(KEY).memoised(max_entries=5)
    batch: list[str | None] = [f"v{i}" for i in range(20)]
    assert pseudonyms(memoised, [batch] * 3) == pseudonyms(Pseudonymiser(KEY), [batch] * 3)
    assert memoised.memo is not None and len(memoised.memo) == 5
    assert counting.values == 20 + 15 + 15 + 60  # memoised, then plain


def test_all_distinct_data_switches_the_memo_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connectors.memo, "PROBE_VALUES", 2000)
    monkeypatch.setattr(connectors.memo, "WINDOW_VALUES", 500)
    memoised = Pseudonymiser(KEY).memoised()
    memo = memoised.memo
    assert memo is not None
    batches: Batches = [[f"id-{j}-{i}" for i in range(400)] for j in range(10)]
    batches.append(batches[0])  # after the switch-off: hashed again, still the same
    assert pseudonyms(memoised, batches) == pseudonyms(Pseudonymiser(KEY), batches)
    assert not memo.active and len(memo) == 0 and memo.nbytes == 0


def test_recurring_data_keeps_the_memo_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connectors.memo, "PROBE_VALUES", 2000)
    monkeypatch.setattr(connectors.memo, "WINDOW_VALUES", 500)
    memoised = Pseudonymiser(KEY).memoised()
    batches: Batches = [[f"id-{i}" for i in range(400)] for _ in range(10)]
    pseudonyms(memoised, batches)
    assert memoised.memo is not None and memoised.memo.active


def test_values_longer_than_a_row_are_hashed_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    short: list[str | None] = [f"{i:09d}" for i in range(2000)]  # fixes 16-byte rows
    long: list[str | None] = ["X" * 40 + str(i) for i in range(5)]
    batches: Batches = [short, short[:10] + long, long]
    counting = Counting(monkeypatch)
    memoised = Pseudonymiser(KEY).memoised()
    assert pseudonyms(memoised, batches) == pseudonyms(Pseudonymiser(KEY), batches)
    assert memoised.memo is not None and len(memoised.memo) == 2000
    assert counting.values == 2000 + 5 + 5 + (2000 + 15 + 5)


def test_digest_memo_directly() -> None:
    memo = DigestMemo(3)
    calls: list[list[str]] = []

    def compute(values: pa.Array) -> npt.NDArray[np.uint8]:
        calls.append(values.to_pylist())
        rows = [[len(v), ord(v[0]), 7] for v in values.to_pylist()]
        return np.array(rows, np.uint8).reshape(-1, 3)

    first = memo.digests(pa.array(["ab", "c"]), compute)
    second = memo.digests(pa.array(["c", "de", "ab"]), compute)
    assert first.tolist() == [[2, 97, 7], [1, 99, 7]]
    assert second.tolist() == [[1, 99, 7], [2, 100, 7], [2, 97, 7]]
    assert calls == [["ab", "c"], ["de"]]
    assert memo.digests(pa.array([], pa.string()), compute).shape == (0, 3)
    # Not for the memo (large strings, nulls): computed as they are.
    assert memo.digests(pa.array(["ab"], pa.large_string()), compute).tolist() == [[2, 97, 7]]
    assert "ab" not in repr(memo)
    with pytest.raises(ValueError):
        DigestMemo(0)


def test_memoised_pseudonymiser_keeps_the_key_and_the_original_unmemoised() -> None:
    plain = Pseudonymiser(KEY)
    memoised = plain.memoised()
    assert plain.memo is None and memoised.memo is not None
    assert "k" * 32 not in repr(memoised)
    values = pa.array(["111222333", None, "123456782"])
    assert memoised.pseudonymise(values) == plain.pseudonymise(values)
    assert memoised.hash_distinct(values) == plain.hash_distinct(values)


def test_ingest_hashes_each_person_once(
    tmp_path: Path,
    make_meta: Callable[..., DatasetMeta],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(11)
    persons = [
        b for b in (bsn_with_check_digit(str(rng.randrange(10**7, 10**8))) for _ in range(900)) if b
    ]
    rows = [
        (rng.choice(persons), rng.choice(["Delft", "Assen"]), rng.randrange(100))
        for _ in range(12_000)
    ]
    body = "bsn;gemeente;bedrag\n" + "".join(f"{b};{g};{a}\n" for b, g, a in rows)
    distinct = {b for b, _g, _a in rows}
    counting = Counting(monkeypatch)
    out = tmp_path / "v1.parquet.enc"
    meta = make_meta(retention_until=dt.date.today() + dt.timedelta(days=30))
    options = IngestOptions(batch_rows=1000, sample_rows=1000, row_group_rows=4000)
    result = ingest_file(
        body.encode(), "upload.csv", meta, master_key=MASTER, out_path=out, aad=AAD, options=options
    )
    assert counting.values == len(distinct)
    stored = read_dataset(out, result.wrapped_key, MASTER, aad=AAD).column("bsn").to_pylist()
    expected = Pseudonymiser(stage1_key(MASTER)).pseudonymise(pa.array([b for b, _g, _a in rows]))
    assert stored == expected.to_pylist()


def test_each_identifier_column_gets_its_own_memo_within_one_budget() -> None:
    def column(name: str, role: ColumnRole) -> Column:
        return Column(ColumnSpec(name, "string", role), text_type="string")

    columns = [
        column("bsn", ColumnRole.IDENTIFIER),
        column("gemeente", ColumnRole.CATEGORY),
        column("iban", ColumnRole.IDENTIFIER),
    ]
    plain = Pseudonymiser(KEY)
    hashers = column_pseudonymisers(columns, plain, max_bytes=1 << 20)
    assert hashers[1] is None
    memos = [h.memo for h in hashers if h is not None]
    assert len(memos) == 2 and memos[0] is not memos[1]
    assert all(m is not None and m.max_bytes == 1 << 19 for m in memos)
    assert plain.memo is None  # the caller's pseudonymiser stays as it was


@pytest.mark.parametrize("size", [1, 7, 8, 9, 16])
def test_equal_length_keys_are_the_general_ones(size: int) -> None:
    # Values all of one length take a shortcut; with one longer value added the
    # general path runs. Each value's row must come out the same either way.
    rng = random.Random(size)
    texts = ["".join(rng.choice("0123456789AZé") for _ in range(size)) for _ in range(50)]
    cut = [t.encode()[:size].decode(errors="ignore") for t in texts]
    texts = [t + "x" * (size - len(t.encode())) for t in cut]  # exactly size bytes
    assert {len(t.encode()) for t in texts} == {size}
    memo = DigestMemo(16)
    memo._value_words = 3
    values = pa.array(["skipped", *texts]).slice(1)

    def keys(array: pa.Array) -> npt.NDArray[np.uint64]:
        offsets = np.frombuffer(array.buffers()[1], np.int32, len(array) + 1, array.offset * 4)
        return memo._keys(array, offsets, np.diff(offsets).astype(np.int64))

    general = keys(pa.concat_arrays([values, pa.array(["y" * (size + 1)])]))
    assert np.array_equal(keys(values), general[:-1])
