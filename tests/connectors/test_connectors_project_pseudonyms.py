import hashlib
import hmac

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.crypto import derive_key
from connectors.pseudonym import Pseudonymiser, project_key, rekey_to_project, stage1_key

MASTER = b"M" * 32


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=70), min_size=1, max_size=20))
def test_midstate_hmac_matches_the_reference(values: list[str]) -> None:
    key = b"k" * 40
    got = Pseudonymiser(key).hash_distinct(pa.array(values)).to_pylist()
    expected = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32] for v in values]
    assert got == expected


def test_long_keys_are_hashed_first_like_hmac() -> None:
    key = b"x" * 100
    got = Pseudonymiser(key).hash_distinct(pa.array(["a"]))[0].as_py()
    assert got == hmac.new(key, b"a", hashlib.sha256).hexdigest()[:32]


def test_project_scoping_links_within_and_not_across() -> None:
    stage1 = Pseudonymiser(stage1_key(MASTER))
    dataset_a = stage1.pseudonymise(pa.array(["111222333", "123456782", None]))
    dataset_b = stage1.pseudonymise(pa.array(["123456782", "111222333"]))
    in_p1_a = rekey_to_project(dataset_a, MASTER, 1).to_pylist()
    in_p1_b = rekey_to_project(dataset_b, MASTER, 1).to_pylist()
    in_p2_a = rekey_to_project(dataset_a, MASTER, 2).to_pylist()
    assert in_p1_a[0] == in_p1_b[1] and in_p1_a[1] == in_p1_b[0]
    assert in_p1_a[2] is None
    assert not set(in_p1_a[:2]) & set(in_p2_a[:2])
    assert not set(in_p1_a[:2]) & set(dataset_a.to_pylist())


def test_project_key_is_hkdf_of_project_id() -> None:
    assert project_key(MASTER, 7) == derive_key(MASTER, "project:7")
    assert project_key(MASTER, "7") != stage1_key(MASTER)


def test_rekey_accepts_chunked_and_dictionary_columns() -> None:
    values = pa.array(["a" * 32, "b" * 32, "a" * 32])
    plain = rekey_to_project(values, MASTER, "p").to_pylist()
    assert rekey_to_project(pa.chunked_array([values]), MASTER, "p").to_pylist() == plain
    assert rekey_to_project(values.dictionary_encode(), MASTER, "p").to_pylist() == plain
