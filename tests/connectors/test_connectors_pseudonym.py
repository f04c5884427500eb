import hashlib
import hmac
import string

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.pseudonym import Pseudonymiser

KEY = b"k" * 32


def test_same_value_same_pseudonym_after_normalising() -> None:
    result = Pseudonymiser(KEY).pseudonymise(
        pa.array(["1234 ab", " 1234AB ", "1234\tAb", "1234\u00a0AB"])
    )
    assert result.type == pa.string()
    assert len(set(result.to_pylist())) == 1
    assert len(result[0].as_py()) == 32


def test_different_values_differ() -> None:
    result = Pseudonymiser(KEY).pseudonymise(pa.array(["111222333", "123456782"]))
    assert result[0] != result[1]


def test_key_separation() -> None:
    values = pa.array(["111222333"])
    assert Pseudonymiser(KEY).pseudonymise(values) != Pseudonymiser(b"j" * 32).pseudonymise(values)


def test_nulls_and_blanks_stay_null() -> None:
    result = Pseudonymiser(KEY).pseudonymise(pa.array(["a", None, "  "]))
    assert result[0].is_valid and result.to_pylist()[1:] == [None, None]


def test_integers_and_chunked_and_dictionary_inputs() -> None:
    p = Pseudonymiser(KEY)
    as_text = p.pseudonymise(pa.array(["123456782"]))
    assert p.pseudonymise(pa.array([123456782])) == as_text
    chunked = p.pseudonymise(pa.chunked_array([["123456782"], ["123456782"]]))
    assert chunked.to_pylist() == as_text.to_pylist() * 2
    assert p.pseudonymise(pa.array(["123456782"]).dictionary_encode()) == as_text


def test_short_key_refused_and_not_shown() -> None:
    with pytest.raises(ValueError):
        Pseudonymiser(b"short")
    assert "k" * 32 not in repr(Pseudonymiser(KEY))


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_pseudonyms_are_deterministic_and_hide_values(values: list[str | None]) -> None:
    p = Pseudonymiser(KEY)
    first = p.pseudonymise(pa.array(values, pa.string()))
    assert first == p.pseudonymise(pa.array(values, pa.string()))
    assert len(first) == len(values)
    for value, pseudonym in zip(values, first.to_pylist(), strict=True):
        if value is None or value == "":
            assert pseudonym is None
        assert pseudonym is None or len(pseudonym) == 32


@given(
    st.binary(min_size=16, max_size=100),
    st.lists(st.one_of(st.none(), st.text(max_size=40)), max_size=30),
)
def test_hash_distinct_is_hmac_sha256(key: bytes, values: list[str | None]) -> None:
    expected = [
        None if v is None else hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:32]
        for v in values
    ]
    assert Pseudonymiser(key).hash_distinct(pa.array(values, pa.string())).to_pylist() == expected


def test_pseudonyms_of_plain_and_spaced_identifiers() -> None:
    # The regex-free path (all ASCII letters and digits) and the regex path agree.
    p = Pseudonymiser(KEY)
    plain = p.pseudonymise(pa.array(["NL91ABNA0417164300", "123456782"]))
    spaced = p.pseudonymise(pa.array(["NL91 ABNA 0417 1643 00", "123\u00a0456\u00a0782"]))
    assert plain == spaced
    digest = hmac.new(KEY, b"NL91ABNA0417164300", hashlib.sha256).hexdigest()[:32]
    assert plain[0].as_py() == digest


def test_more_distinct_values_than_one_string_array_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    import connectors.pseudonym

    monkeypatch.setattr(connectors.pseudonym, "_MAX_ARRAY_VALUES", 3)
    values = ["a", "b", "c", "d", "a", None, "e", "f", "g"]
    expected = [
        None if v is None else hmac.new(KEY, v.encode(), hashlib.sha256).hexdigest()[:32]
        for v in values
    ]
    result = Pseudonymiser(KEY).hash_distinct(pa.array(values, pa.string()))
    assert result.type == pa.string() and result.to_pylist() == expected


def _normalise_reference(values: pa.Array) -> pa.Array:
    """The normalising rule spelled out step by step (no fast path)."""
    text = pc.utf8_upper(pc.utf8_trim_whitespace(values.cast(pa.string())))
    text = pc.replace_substring_regex(text, r"[\s\p{Z}]+", "")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=string.ascii_letters + string.digits, max_size=12),
            st.text(max_size=12),
        ),
        max_size=30,
    ),
    st.booleans(),
)
def test_normalise_fast_path_matches_the_rule(values: list[str | None], plain: bool) -> None:
    if plain:  # only ASCII letters and digits: the fast path
        values = [v for v in values if v is None or (v.isascii() and v.isalnum())]
    array = pa.array(values, pa.string())
    normalised = Pseudonymiser.normalise(array).dictionary_decode()
    assert normalised.to_pylist() == _normalise_reference(array).to_pylist()
