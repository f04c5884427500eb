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
