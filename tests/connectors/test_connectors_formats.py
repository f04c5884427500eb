import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.errors import SchemaError, UnreadableFile, UnsupportedFormat
from connectors.formats import FileFormat, detect_format, read_table, sniff_delimiter

WriteFile = Callable[[str, str | bytes], Path]


@pytest.mark.parametrize(
    ("filename", "head", "expected"),
    [
        ("data.bin", b"PAR1\x15\x04", FileFormat.PARQUET),
        ("data.csv", b"PAR1", FileFormat.PARQUET),  # magic bytes win
        ("data", b"PK\x03\x04", FileFormat.XLSX),
        ("data.CSV", b"a,b", FileFormat.CSV),
        ("data.tsv", b"a\tb", FileFormat.CSV),
        ("data.txt", b"a;b", FileFormat.CSV),
        ("data.jsonl", b"{}", FileFormat.JSONL),
        ("data.ndjson", b"{}", FileFormat.JSONL),
        ("data.parquet", b"", FileFormat.PARQUET),
        ("data.xlsx", b"", FileFormat.XLSX),
    ],
)
def test_detect_format(filename: str, head: bytes, expected: FileFormat) -> None:
    assert detect_format(filename, head) is expected


@pytest.mark.parametrize("filename", ["data.csv.gz", "data.xls", "data", "data.json"])
def test_unknown_format_is_refused(filename: str) -> None:
    with pytest.raises(UnsupportedFormat):
        detect_format(filename, b"\x1f\x8b\x08")


@pytest.mark.parametrize(
    ("head", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1;2,5;3\n", ";"),
        ("a\tb\n1\t2\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('a;b\n"x;y";2\n', ";"),
        ("a\n1\n", ","),
        ("", ","),
    ],
)
def test_sniff_delimiter(head: str, delimiter: str) -> None:
    assert sniff_delimiter(head) == delimiter


def test_csv_with_bom_semicolons_and_decimal_commas(write_file: WriteFile) -> None:
    path = write_file(
        "export.csv",
        "\ufeffbsn;gemeente;bedrag;datum;actief\n"
        "012345672;Utrecht;1,5;2024-01-31;true\n"
        "123456782; Delft ;-2;2024-02-01;FALSE\n"
        "111222333;;;;\n",
    )
    table = read_table(path, FileFormat.CSV)
    assert table.column_names == ["bsn", "gemeente", "bedrag", "datum", "actief"]
    assert table.schema.types == [pa.string(), pa.string(), pa.float64(), pa.date32(), pa.bool_()]
    assert table.column("bsn").to_pylist() == ["012345672", "123456782", "111222333"]
    assert table.column("bedrag").to_pylist() == [1.5, -2.0, None]
    assert table.column("datum").to_pylist()[0] == dt.date(2024, 1, 31)
    assert table.column("gemeente").to_pylist()[2] is None


def test_csv_keeps_leading_zeros_and_infers_numbers(write_file: WriteFile) -> None:
    path = write_file("a.csv", "tel,n,x,t\n0612345678,1,1.5,2024-01-01 10:00\n0201234567,20,2,\n")
    table = read_table(path, FileFormat.CSV)
    assert table.schema.types == [pa.string(), pa.int64(), pa.float64(), pa.timestamp("us")]
    assert table.column("tel").to_pylist() == ["0612345678", "0201234567"]


def test_comma_csv_does_not_read_decimal_commas(write_file: WriteFile) -> None:
    table = read_table(write_file("a.csv", 'a,b\n"1,5",x\n'), FileFormat.CSV)
    assert table.column("a").to_pylist() == ["1,5"]


def test_column_names_are_stripped(write_file: WriteFile) -> None:
    table = read_table(write_file("a.csv", " a , b\n1,2\n"), FileFormat.CSV)
    assert table.column_names == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        ("", SchemaError, "empty"),
        ("a,b\n", SchemaError, "no data rows"),
        ("a,a\n1,2\n", SchemaError, "'a' appears more than once"),
        ("Naam,naam\n1,2\n", SchemaError, "'naam' appears more than once"),
        ("a,,c\n1,2,3\n", SchemaError, "column 2 has an empty name"),
        ("a,b\n1,2\n111222333,geheim,3\n", UnreadableFile, "line 3 has 3 fields"),
        (b"a,b\nx,1\ncaf\xe9,2\n", UnreadableFile, "not valid UTF-8"),
    ],
)
def test_bad_csv(
    write_file: WriteFile, content: str | bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as info:
        read_table(write_file("bad.csv", content), FileFormat.CSV)
    assert "111222333" not in str(info.value) and "geheim" not in str(info.value)
    # A chained Arrow error could quote the row in a logged traceback.
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


def test_parquet(tmp_path: Path) -> None:
    table = pa.table({"bsn": ["012345672"], "bedrag": [1.5]})
    pq.write_table(table, tmp_path / "a.parquet")
    assert read_table(tmp_path / "a.parquet", FileFormat.PARQUET).equals(table)


def test_broken_parquet(write_file: WriteFile) -> None:
    with pytest.raises(UnreadableFile, match="Parquet"):
        read_table(write_file("a.parquet", b"PAR1 111222333 PAR1"), FileFormat.PARQUET)


def test_jsonl_through_read_table(write_file: WriteFile) -> None:
    table = read_table(
        write_file("a", b'{"n": 1, "s": "x"}\n{"n": 2, "s": "y"}\n'), FileFormat.JSONL
    )
    assert table.column("n").to_pylist() == [1, 2]
    assert table.column("s").to_pylist() == ["x", "y"]


def test_jsonl_with_no_rows(write_file: WriteFile) -> None:
    with pytest.raises(SchemaError):
        read_table(write_file("a", b"{}"), FileFormat.JSONL)
