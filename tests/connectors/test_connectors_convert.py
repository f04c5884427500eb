import pyarrow as pa
import pytest

from connectors.inference import convert_text, infer_text_type, parse_dates, pick_date_format


@pytest.mark.parametrize(
    ("text_type", "values", "expected", "failed"),
    [
        ("integer", ["1", "+2", None, "x", " 3 "], [1, 2, None, None, 3], [3]),
        ("float", ["1.5", "nan", "inf", "2"], [1.5, None, None, 2.0], [1, 2]),
        ("decimal_comma", ["1,5", "2", "1.000,5"], [1.5, 2.0, None], [2]),
        ("boolean", ["True", "false", "ja"], [True, False, None], [2]),
        ("string", ["a", None], ["a", None], []),
    ],
)
def test_convert_text_reports_failed_cells(
    text_type: str, values: list[str | None], expected: list[object], failed: list[int]
) -> None:
    converted, mask = convert_text(pa.array(values, pa.string()), text_type)
    assert converted.to_pylist() == expected
    assert [i for i, bad in enumerate(mask.to_pylist()) if bad] == failed


def test_impossible_dates_fail_alone() -> None:
    converted, mask = convert_text(pa.array(["2024-02-29", "2023-02-30"]), "date")
    assert converted.to_pylist()[1] is None and mask.to_pylist() == [False, True]


def test_date_formats() -> None:
    values = pa.array(["31-01-2024", "01-02-2024", "morgen"])
    assert pick_date_format(values) == "%d-%m-%Y"
    parsed, failed = parse_dates(values, "%d-%m-%Y")
    assert parsed.null_count == 1 and failed.to_pylist() == [False, False, True]


def test_infer_text_type() -> None:
    assert infer_text_type(pa.array(["1", "2"]), decimal_comma=True) == "integer"
    assert infer_text_type(pa.array(["1,5", "2"]), decimal_comma=True) == "decimal_comma"
    assert infer_text_type(pa.array(["1.5", "2"]), decimal_comma=True) == "float"
    assert infer_text_type(pa.array(["012", "2"]), decimal_comma=True) == "string"


def test_iso_dates_match_strptime_either_way() -> None:
    # All strict ISO dates: Arrow's cast. Else strptime for the whole batch, which
    # reads 2024-1-5; 2023-02-30 (which strptime alone rolls over to 2 March) fails.
    parsed, failed = parse_dates(pa.array(["2024-01-05", None, " 2024-02-29 "]), "%Y-%m-%d")
    assert [str(d) if d else None for d in parsed.to_pylist()] == [
        "2024-01-05",
        None,
        "2024-02-29",
    ]
    assert failed.to_pylist() == [False, False, False]
    parsed, failed = parse_dates(pa.array(["2023-02-30", "2024-1-5", "", "x"]), "%Y-%m-%d")
    assert [str(d) if d else None for d in parsed.to_pylist()] == [
        None,
        "2024-01-05",
        None,
        None,
    ]
    assert failed.to_pylist() == [True, False, False, True]


@pytest.mark.parametrize(
    ("fmt", "impossible", "possible"),
    [
        ("%d-%m-%Y", "30-02-2023", "5-1-2024"),
        ("%d/%m/%Y", "31/04/2024", "29/02/2024"),
        ("%d.%m.%Y", "29.02.2023", "1.12.2023"),
        ("%Y%m%d", "20230230", "20240105"),
    ],
)
def test_impossible_dates_fail_in_every_format(fmt: str, impossible: str, possible: str) -> None:
    parsed, failed = parse_dates(pa.array([impossible, possible, None]), fmt)
    assert parsed.to_pylist()[0] is None and parsed.to_pylist()[1] is not None
    assert failed.to_pylist() == [True, False, False]


def test_decimal_comma_of_a_sliced_array_with_nulls() -> None:
    values = pa.array(["9,99", "1,5", None, "€ 2,5", "-0,25", "3"]).slice(1, 4)
    converted, failed = convert_text(values, "decimal_comma")
    assert converted.to_pylist() == [1.5, None, None, -0.25]
    assert failed.to_pylist() == [False, False, True, False]
