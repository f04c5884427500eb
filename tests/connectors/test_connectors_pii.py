import datetime as dt
import random

import pyarrow as pa
import pytest
from connectors_factories import BSNS, bsn_with_check_digit, iban_with_check_digits
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.pii import PiiFinding, detect_identifiers


def detectors(values: list[object], column: str = "kolom", **kwargs: float) -> set[str]:
    table = pa.table({column: values})
    return {f.detector for f in detect_identifiers(table, **kwargs)}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "detector"),
    [
        (BSNS, "bsn"),
        (["1112.22.333", "1234 56 782"], "bsn"),
        ([111222333, 12345672], "bsn"),  # an int drops the leading zero
        (["NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "DE89370400440532013000"], "iban"),
        (["jan@example.nl", "p.de.vries+x@gemeente.amsterdam.nl"], "email"),
        (["1234 AB 12", "1234AB 1a", "9999 zz 123-2"], "postcode_house_number"),
        (["1234 AB", "1234AB", "9999 zz"], "postcode"),
        (
            ["+31 6 12345678", "0031612345678", "06-12345678", "010-1234567", "+31(0)20 1234567"],
            "phone",
        ),
        (["AB-12-34", "12-AB-34", "1-ABC-23", "AB-123-C", "ABC-12-D", "AB1234"], "licence_plate"),
        (["Jan de Vries", "Fatima", "Sanne Bakker", "Van Dijk"], "name"),
    ],
)
def test_detects(values: list[object], detector: str) -> None:
    assert detector in detectors(values)


@pytest.mark.parametrize(
    ("column", "values", "detector"),
    [
        ("kvk_nummer", ["12345678", "87654321"], "kvk"),
        ("KvKNummer", [12345678, 1234567], "kvk"),
        ("geboortedatum", ["1980-01-31", "31-01-1980", "19800131"], "date_of_birth"),
        ("date_of_birth", [dt.date(1980, 1, 31)], "date_of_birth"),
        ("dob", [19800131], "date_of_birth"),
        ("achternaam", ["Ploegmakers", "Zwart-Hoekman"], "name"),
        ("firstName", ["Xandra", "Ynte"], "name"),
    ],
)
def test_detects_with_column_name_hint(column: str, values: list[object], detector: str) -> None:
    assert detector in detectors(values, column)
    assert detector not in detectors(values, "kolom")


@pytest.mark.parametrize(
    "values",
    [
        ["Amsterdam", "Rotterdam", "Utrecht"],
        ["groen", "rood", "blauw"],
        ["man", "vrouw", "onbekend"],
        [1, 2, 3, 250],
        [12345678, 87654321],  # eight digits without a kvk column name
        ["2020-01-01", "2021-06-30"],  # dates without a birth column name
        ["diefstal", "inbraak", "fraude", "witwassen"],
        [1.5, 2.25],
        [True, False],
    ],
)
def test_ordinary_values_are_not_identifiers(values: list[object]) -> None:
    assert detectors(values) == set()


def test_share_is_reported_and_min_share_applies() -> None:
    values = ["111222333", "123456782", "x", "y", None, ""]  # 2 of 4 non-empty values
    table = pa.table({"nr": values})
    assert detect_identifiers(table) == [PiiFinding("nr", "bsn", 0.5)]
    assert detect_identifiers(table, min_share=0.6) == []


def test_only_the_sample_is_read() -> None:
    values = ["onbekend"] * 10 + BSNS * 10
    assert detectors(values, sample_rows=10) == set()
    assert detectors(values) == {"bsn"}


def test_dictionary_and_large_string_columns() -> None:
    table = pa.table(
        {
            "a": pa.array(BSNS).dictionary_encode(),
            "b": pa.array(["jan@example.nl"] * 4, pa.large_string()),
            "c": pa.array([1.5] * 4),
        }
    )
    found = [(f.column, f.detector) for f in detect_identifiers(table)]
    assert found == [("a", "bsn"), ("b", "email")]


def test_empty_and_all_null_columns_are_skipped() -> None:
    assert detect_identifiers(pa.table({"a": pa.array([None, None], pa.string())})) == []
    assert detect_identifiers(pa.table({"a": pa.array([" ", ""])})) == []
    assert detect_identifiers(pa.table({"a": pa.array([], pa.string())})) == []


first8 = st.text(alphabet="0123456789", min_size=8, max_size=8)


@settings(max_examples=25)
@given(st.lists(first8.map(bsn_with_check_digit).filter(bool), min_size=1, max_size=50))
def test_generated_bsn_columns_are_found(bsns: list[str]) -> None:
    assert "bsn" in detectors(bsns)  # type: ignore[arg-type]


@settings(max_examples=25)
@given(st.lists(st.text(alphabet="0123456789", min_size=9, max_size=9), min_size=30, max_size=60))
def test_random_nine_digit_columns_are_not_bsn(values: list[str]) -> None:
    assert "bsn" not in detectors(values)  # type: ignore[arg-type]


@settings(max_examples=25)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4),
            st.text(alphabet="0123456789", min_size=10, max_size=10),
        ).map(lambda parts: iban_with_check_digits("NL", parts[0] + parts[1])),
        min_size=1,
        max_size=30,
    )
)
def test_generated_iban_columns_are_found(ibans: list[str]) -> None:
    assert "iban" in detectors(ibans)  # type: ignore[arg-type]


def test_large_column_is_fast_enough() -> None:
    rng = random.Random(7)
    values = [f"{rng.randrange(10**9):09d}" for _ in range(200_000)]
    assert detect_identifiers(pa.table({"x": values})) == []


def test_unnamed_birth_dates_are_found_by_their_spread() -> None:
    rng = random.Random(3)
    births = [
        dt.date(rng.randint(1935, 2015), rng.randint(1, 12), rng.randint(1, 28)) for _ in range(200)
    ]
    assert "date_of_birth" in detectors(births, "d")
    assert "date_of_birth" in detectors([d.strftime("%d-%m-%Y") for d in births], "d")
    events = [dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 700)) for _ in range(200)]
    assert "date_of_birth" not in detectors(events, "d")
    assert "date_of_birth" not in detectors(births[:10], "d")  # too few values to judge spread


@pytest.mark.parametrize(
    "values",
    [
        ["Bram", "Lotte", "Femke", "Daan", "Sven"],
        ["De Jong", "van der Meer", "Jansen", "Bakker", "Visser"],
    ],
)
def test_shipped_name_list_flags_unnamed_columns(values: list[str]) -> None:
    assert "name" in detectors(values, "x")
