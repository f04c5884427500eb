import io
import zipfile
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.errors import (
    BadColumnName,
    EmptyFile,
    IngestError,
    InvalidEncoding,
    LineTooLong,
    MalformedCsv,
    NestedType,
    SuspiciousArchive,
    UnreadableFile,
    UnsafeFileName,
)
from connectors.filenames import safe_filename
from connectors.formats import FileFormat
from connectors.readers import detect_encoding, open_batches
from connectors.xlsx import XlsxLimits, check_zip

SECRET = "Geheimwaarde"  # a value that must never appear in an error message


def read_all(source: Path | bytes, fmt: FileFormat = FileFormat.CSV, **kw: int) -> pa.Table:
    with open_batches(source, fmt, **kw) as stream:
        batches = list(stream.batches)
        return (
            pa.Table.from_batches(batches, schema=batches[0].schema)
            if batches
            else pa.table({name: pa.array([], pa.string()) for name in stream.names})
        )


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        ("naam;plaats\nJosé;Zoë\n".encode(), "utf-8"),
        ("naam;plaats\nJosé;Zoë\n".encode("utf-8-sig"), "utf-8-sig"),
        ("naam;plaats\nJosé;Zoë\n".encode("utf-16"), "utf-16"),
        ("naam;plaats\nJosé;Zoë\n".encode("cp1252"), "cp1252"),
    ],
)
def test_csv_encodings(encoded: bytes, encoding: str) -> None:
    assert detect_encoding(encoded) == encoding
    table = read_all(encoded)
    assert table.column_names == ["naam", "plaats"]
    assert table.to_pylist() == [{"naam": "José", "plaats": "Zoë"}]


def test_latin1_fallback() -> None:
    body = b"a;b\n\x81x;\xe9\n"  # 0x81 is undefined in cp1252
    assert detect_encoding(body) == "latin-1"
    assert read_all(body).to_pylist() == [{"a": "\x81x", "b": "é"}]


def test_csv_quoting_and_newlines_in_values() -> None:
    table = read_all(b'a,b\n"x, y","multi\nline"\n"q ""quoted""",2\n')
    assert table.to_pylist() == [
        {"a": "x, y", "b": "multi\nline"},
        {"a": 'q "quoted"', "b": "2"},
    ]


def test_csv_streams_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("a;b\n" + "".join(f"{i};x\n" for i in range(200_000)))
    with open_batches(path, FileFormat.CSV, max_line_bytes=1 << 16) as stream:
        sizes = [batch.num_rows for batch in stream.batches]
    assert sum(sizes) == 200_000 and len(sizes) > 10


def test_malformed_csv_names_the_line() -> None:
    body = "a,b\n" + "1,2\n" * 3000 + f"{SECRET},2,3\n"
    with pytest.raises(MalformedCsv, match="line 3002") as caught:
        read_all(body.encode())
    assert SECRET not in str(caught.value)


def test_mixed_encoding_is_refused() -> None:
    head = "a;b\n" + "Zoë;1\n" * 20_000  # valid UTF-8 well past the sniffed head
    body = head.encode() + "Zoë;2\n".encode("cp1252")
    with pytest.raises(InvalidEncoding, match="UTF-8"):
        read_all(body)


def test_nul_bytes_are_refused() -> None:
    with pytest.raises(InvalidEncoding):
        read_all(b"a,b\x00\n1,2\n")


def test_ten_megabyte_line_is_refused() -> None:
    body = b"a,b\n1,2\n" + b"x" * (10 << 20) + b",3\n"
    with pytest.raises(LineTooLong) as caught:
        read_all(body)
    assert "x" * 20 not in str(caught.value)


@pytest.mark.parametrize("body", [b"", b"   \n\n"])
def test_empty_file(body: bytes) -> None:
    with pytest.raises(EmptyFile):
        read_all(body)


def test_header_only_has_no_batches() -> None:
    assert read_all(b"a,b\n").num_rows == 0


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("a,,b", "column 2 has an empty name"),
        ("a,b,A", "appears more than once"),
        ("a, b ,b", "appears more than once"),
        ("a," + "x" * 101, "over 100 characters"),
    ],
)
def test_bad_column_names(header: str, message: str) -> None:
    with pytest.raises(BadColumnName, match=message):
        read_all((f"{header}\n" + ",".join("1" * len(header.split(","))) + "\n").encode())


def test_parquet_streams_with_types(tmp_path: Path) -> None:
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"n": list(range(1000)), "s": ["x"] * 1000}), path)
    with open_batches(path, FileFormat.PARQUET, batch_rows=100) as stream:
        batches = list(stream.batches)
        assert not stream.text
    assert len(batches) == 10 and batches[0].schema.field("n").type == pa.int64()


@pytest.mark.parametrize(
    "column",
    [
        pa.array([[1, 2], [3]]),
        pa.array([{"x": 1}, {"x": 2}]),
        pa.array([[("k", 1)], [("k", 2)]], type=pa.map_(pa.string(), pa.int64())),
    ],
)
def test_nested_parquet_is_refused(tmp_path: Path, column: pa.Array) -> None:
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"ok": [1, 2], "nested": column}), path)
    with pytest.raises(NestedType, match="'nested'"):
        open_batches(path, FileFormat.PARQUET)


def test_broken_parquet() -> None:
    with pytest.raises(UnreadableFile):
        open_batches(b"PAR1 not really", FileFormat.PARQUET)


def test_jsonl() -> None:
    body = b'{"a": 1, "b": "x", "c": true}\n\n{"a": 2.5, "b": null}\n'
    table = read_all(body, FileFormat.JSONL)
    assert table.to_pylist() == [
        {"a": "1", "b": "x", "c": "true"},
        {"a": "2.5", "b": None, "c": None},
    ]


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b'{"a": 1}\n{"a": [1, 2]}\n', NestedType, "line 2"),
        (b'{"a": 1}\n{"a": \n', UnreadableFile, "line 2 is not valid JSON"),
        (b'{"a": 1}\n[1]\n', UnreadableFile, "not a JSON object"),
        (b'{"a": 1}\n{"a": 1, "b": 2}\n', UnreadableFile, "line 2 has a field"),
        (b"", EmptyFile, "empty"),
        (b'{"a": "\xff"}\n', InvalidEncoding, "line 1"),
    ],
)
def test_bad_jsonl(body: bytes, error: type[IngestError], message: str) -> None:
    with pytest.raises(error, match=message):
        read_all(body, FileFormat.JSONL)


def test_jsonl_line_cap() -> None:
    with pytest.raises(LineTooLong):
        read_all(b'{"a": "' + b"x" * 5000 + b'"}\n', FileFormat.JSONL, max_line_bytes=1000)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx() -> None:
    import datetime as dt

    body = xlsx_bytes(
        [
            ["bsn", "bedrag", "datum", "naam"],
            ["111222333", 10.5, dt.date(2024, 1, 31), "@cmd"],
            [None, None, None, None],
            ["123456782", 3, dt.date(2024, 2, 1), "Delft"],
        ]
    )
    table = read_all(body, FileFormat.XLSX)
    assert table.column_names == ["bsn", "bedrag", "datum", "naam"]
    assert table.to_pylist() == [
        {"bsn": "111222333", "bedrag": "10.5", "datum": "2024-01-31", "naam": "@cmd"},
        {"bsn": "123456782", "bedrag": "3", "datum": "2024-02-01", "naam": "Delft"},
    ]


def test_xlsx_zip_bomb_ratio_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 << 20))
    with pytest.raises(SuspiciousArchive, match="zip bombs"):
        open_batches(out.getvalue(), FileFormat.XLSX)


def test_xlsx_declared_size_is_refused() -> None:
    limits = XlsxLimits()
    limits.max_uncompressed_bytes = 1000
    with pytest.raises(SuspiciousArchive):
        check_zip(io.BytesIO(xlsx_bytes([["a"], [1]])), limits)


def test_not_a_zip() -> None:
    with pytest.raises(UnreadableFile):
        open_batches(b"PK\x03\x04 broken", FileFormat.XLSX)


@pytest.mark.parametrize("name", ["data.csv", "Registraties 2024 (v2).xlsx", "a-b_c+d.parquet"])
def test_safe_filenames(name: str) -> None:
    assert safe_filename(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "../etc/passwd",
        "..",
        "/abs.csv",
        "a\\b.csv",
        ".hidden.csv",
        "a\x00b.csv",
        "a\nb.csv",
        "",
        "x" * 300,
        "a;rm -rf.csv",
        "data\u202ecsv.exe",
    ],
)
def test_unsafe_filenames(name: str) -> None:
    with pytest.raises(UnsafeFileName) as caught:
        safe_filename(name)
    assert name == "" or name not in str(caught.value)


def test_pure_cp1252_is_read_but_utf8_mixed_with_cp1252_is_refused() -> None:
    assert detect_encoding("naam,plaats\nRené,Fryslân\n".encode("cp1252")) == "cp1252"
    assert detect_encoding("naam,plaats\nRené,Fryslân\n".encode()) == "utf-8"
    mixed = "naam\nRené\n".encode() + "Zoë\n".encode("cp1252")
    with pytest.raises(InvalidEncoding, match="mixes UTF-8"):
        detect_encoding(mixed)
