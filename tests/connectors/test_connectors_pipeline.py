import datetime as dt
import hashlib
import io
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.crypto import DecryptionFailed
from connectors.errors import (
    IdentifierFound,
    IngestError,
    NoRows,
    QuarantineRefused,
    SchemaError,
    UnsafeFileName,
)
from connectors.pipeline import IngestOptions, StreamResult, ingest_file, open_dataset, read_dataset
from connectors.plan import formula_count
from connectors.pseudonym import Pseudonymiser, stage1_key
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta
from connectors.spool import EncryptedSpool

MakeMeta = Callable[..., DatasetMeta]
MASTER = b"m" * 32
AAD = b"dataset:1:v1"
PLANTED = ["111222333", "123456782", "NL91ABNA0417164300", "Jan de Vries"]
UPLOAD = (
    "bsn;rekening;naam;gemeente;bedrag;datum\n"
    "111222333;NL91ABNA0417164300;Jan de Vries;Delft;10,5;31-01-2024\n"
    "123456782;NL91ABNA0417164300;Fatima Bakker;=HYPERLINK(1);3;01-02-2024\n"
    "111222333;;Jan de Vries;Delft;4;02-02-2024\n"
)
COLUMNS = {
    "bsn": "identifier",
    "rekening": "identifier",
    "naam": "identifier",
    "gemeente": "category",
    "bedrag": "measure",
    "datum": "date",
}


@pytest.fixture
def meta(make_meta: MakeMeta) -> DatasetMeta:
    return make_meta(columns=COLUMNS)


def ingest(
    source: Path | bytes | io.BufferedIOBase,
    meta: DatasetMeta,
    out_dir: Path,
    filename: str = "upload.csv",
    **options: object,
) -> StreamResult:
    out_dir.mkdir(exist_ok=True)
    return ingest_file(
        source,  # type: ignore[arg-type]
        filename,
        meta,
        master_key=MASTER,
        out_path=out_dir / "v1.parquet.enc",
        aad=AAD,
        options=IngestOptions(**options),  # type: ignore[arg-type]
    )


def every_byte(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


def test_csv_end_to_end(tmp_path: Path, meta: DatasetMeta) -> None:
    source = tmp_path / "in" / "upload.csv"
    source.parent.mkdir()
    source.write_text(UPLOAD)
    out = tmp_path / "out"
    result = ingest(source, meta, out)

    assert result.rows == 3
    # A path is hashed beside the ingest: the digest is still the file's.
    assert result.source_sha256 == hashlib.sha256(UPLOAD.encode()).hexdigest()
    assert result.source_bytes == len(UPLOAD.encode())
    assert result.columns == [
        ColumnSpec("bsn", "string", ColumnRole.IDENTIFIER),
        ColumnSpec("rekening", "string", ColumnRole.IDENTIFIER),
        ColumnSpec("naam", "string", ColumnRole.IDENTIFIER),
        ColumnSpec("gemeente", "string", ColumnRole.CATEGORY),
        ColumnSpec("bedrag", "float", ColumnRole.MEASURE),
        ColumnSpec("datum", "date", ColumnRole.DATE),
    ]
    assert {(f.column, f.detector) for f in result.findings} >= {
        ("bsn", "bsn"),
        ("rekening", "iban"),
    }
    assert result.formula_cells == {"gemeente": 1}
    assert result.quarantine.rejected_rows == 0
    table = read_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)
    expected = Pseudonymiser(stage1_key(MASTER)).pseudonymise(pa.array(["111222333"]))[0]
    assert table.column("bsn").to_pylist() == [
        expected.as_py(),
        table["bsn"][1].as_py(),
        expected.as_py(),
    ]
    assert table.column("bedrag").to_pylist() == [10.5, 3.0, 4.0]
    assert table.column("datum").to_pylist()[0] == dt.date(2024, 1, 31)
    assert table.column("gemeente").to_pylist()[1] == "=HYPERLINK(1)"  # kept as text, flagged
    assert table.column("rekening").to_pylist()[2] is None
    parquet = open_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)
    chunk = parquet.metadata.row_group(0).column(0)  # bsn: pseudonyms, lengths kept apart
    assert "DELTA_LENGTH_BYTE_ARRAY" in chunk.encodings and not chunk.has_dictionary_page
    parquet.close()
    written = every_byte(out)
    assert not written.startswith(b"PAR1")
    for value in PLANTED:
        assert value.encode() not in written
    assert [p.name for p in out.iterdir()] == ["v1.parquet.enc"]


def test_spool_source_leaves_no_raw_value_anywhere(tmp_path: Path, meta: DatasetMeta) -> None:
    body = UPLOAD.encode()
    with EncryptedSpool(tmp_path / "spool") as spool:
        spool.write(body)
        digest = spool.finish()
        result = ingest(spool.open(), meta, tmp_path / "out")
        written = every_byte(tmp_path)
        for value in PLANTED:
            assert value.encode() not in written
    assert result.source_sha256 == digest
    assert result.rows == 3


def test_stored_file_is_tamper_evident(tmp_path: Path, meta: DatasetMeta) -> None:
    source = tmp_path / "u.csv"
    source.write_text(UPLOAD)
    result = ingest(source, meta, tmp_path / "out")
    with pytest.raises(DecryptionFailed):
        read_dataset(result.path, result.wrapped_key, MASTER, aad=b"dataset:1:v2")
    blob = bytearray(result.path.read_bytes())
    blob[40] ^= 1
    result.path.write_bytes(bytes(blob))
    with pytest.raises(DecryptionFailed):
        read_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)


def bad_amounts(n: int, bad: set[int]) -> bytes:
    lines = ["bsn;gemeente;bedrag"]
    for i in range(n):
        lines.append(f"111222333;Delft;{'geheim' if i in bad else i}")
    return ("\n".join(lines) + "\n").encode()


def test_quarantine_refuses_by_default(tmp_path: Path, make_meta: MakeMeta) -> None:
    with pytest.raises(QuarantineRefused) as caught:
        ingest(bad_amounts(100, {4, 50}), make_meta(), tmp_path / "out")
    report = caught.value.report
    assert (report.total_rows, report.rejected_rows) == (100, 2)
    assert [(e.row, e.column, e.reason) for e in report.entries] == [
        (5, "bedrag", "not a number"),
        (51, "bedrag", "not a number"),
    ]
    assert "geheim" not in str(caught.value) and "geheim" not in repr(report.to_dict())
    assert list((tmp_path / "out").iterdir()) == []


def test_quarantine_accepted_below_threshold(tmp_path: Path, make_meta: MakeMeta) -> None:
    result = ingest(
        bad_amounts(100, {4, 50}), make_meta(), tmp_path / "out", max_quarantine_share=0.05
    )
    assert result.rows == 98 and result.quarantine.share == 0.02
    table = read_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)
    assert 4 not in table.column("bedrag").to_pylist()
    with pytest.raises(QuarantineRefused):
        ingest(
            bad_amounts(100, {1, 2, 3}), make_meta(), tmp_path / "out2", max_quarantine_share=0.02
        )


def test_empty_entity_key_is_quarantined(tmp_path: Path, make_meta: MakeMeta) -> None:
    body = b"bsn;gemeente;bedrag\n111222333;Delft;1\n;Delft;2\n"
    with pytest.raises(QuarantineRefused) as caught:
        ingest(body, make_meta(), tmp_path / "out")
    assert caught.value.report.entries[0].reason == "empty entity key"


def test_undeclared_identifier_refused(tmp_path: Path, make_meta: MakeMeta) -> None:
    body = b"bsn;gemeente;bedrag;telefoon\n111222333;Delft;1;0612345678\n"
    with pytest.raises(IdentifierFound) as caught:
        ingest(body, make_meta(), tmp_path / "out")
    assert (caught.value.column, caught.value.detector) == ("telefoon", "phone")
    assert "0612345678" not in str(caught.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_identifiers_late_in_the_file_are_found(tmp_path: Path, make_meta: MakeMeta) -> None:
    lines = ["bsn;gemeente;bedrag;opmerking"]
    lines += [f"111222333;Delft;{i};ok" for i in range(2000)]
    lines += [f"111222333;Delft;{i};jan{i}@example.nl" for i in range(3000)]
    body = ("\n".join(lines) + "\n").encode()
    meta = make_meta()
    with pytest.raises(IdentifierFound) as caught:
        ingest(body, meta, tmp_path / "out", sample_rows=500, batch_rows=500, reservoir_rows=200)
    assert (caught.value.column, caught.value.detector) == ("opmerking", "email")
    assert list((tmp_path / "out").iterdir()) == []


def test_failure_mid_stream_leaves_nothing(
    tmp_path: Path, make_meta: MakeMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    original = Pseudonymiser.hash_encoded

    def flaky(self: Pseudonymiser, encoded: pa.DictionaryArray) -> pa.Array:
        calls["n"] += 1
        if calls["n"] == 5:
            raise RuntimeError("disk full")
        return original(self, encoded)

    monkeypatch.setattr(Pseudonymiser, "hash_encoded", flaky)
    with pytest.raises(RuntimeError):
        ingest(
            bad_amounts(5000, set()),
            make_meta(),
            tmp_path / "out",
            batch_rows=500,
            row_group_rows=500,
        )
    assert list((tmp_path / "out").iterdir()) == []


def test_write_failure_mid_stream_leaves_nothing(
    tmp_path: Path, make_meta: MakeMeta, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.pipeline

    calls = {"n": 0}
    original = connectors.pipeline._write_row_groups

    def flaky(*args: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(connectors.pipeline, "_write_row_groups", flaky)
    with pytest.raises(OSError, match="disk full"):
        ingest(
            bad_amounts(5000, set()),
            make_meta(),
            tmp_path / "out",
            batch_rows=500,
            row_group_rows=500,
        )
    assert calls["n"] == 3
    assert list((tmp_path / "out").iterdir()) == []


def test_header_only_is_refused(tmp_path: Path, make_meta: MakeMeta) -> None:
    with pytest.raises(NoRows):
        ingest(b"bsn;gemeente;bedrag\n", make_meta(), tmp_path / "out")


def test_unsafe_filename_is_refused(tmp_path: Path, make_meta: MakeMeta) -> None:
    with pytest.raises(UnsafeFileName):
        ingest(bad_amounts(3, set()), make_meta(), tmp_path / "out", filename="../../x.csv")


def test_measure_without_numbers_is_refused(tmp_path: Path, make_meta: MakeMeta) -> None:
    body = b"bsn;gemeente;bedrag\n111222333;Delft;veel\n"
    with pytest.raises(SchemaError, match="'bedrag'"):
        ingest(body, make_meta(), tmp_path / "out")


def test_parquet_source(tmp_path: Path, make_meta: MakeMeta) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(
        pa.table(
            {"bsn": [111222333, 123456782], "gemeente": ["Delft", "Ede"], "bedrag": [1.5, 2.0]}
        ),
        path,
    )
    result = ingest(path, make_meta(), tmp_path / "out", filename="in.parquet")
    parquet = open_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)
    table = parquet.read()
    assert table.column("bedrag").to_pylist() == [1.5, 2.0]
    assert len(table.column("bsn")[0].as_py()) == 32


def test_jsonl_source(tmp_path: Path, make_meta: MakeMeta) -> None:
    body = b'{"bsn": "111222333", "gemeente": "Delft", "bedrag": 3}\n' * 3
    result = ingest(body, make_meta(), tmp_path / "out", filename="in.jsonl")
    table = read_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)
    assert table.column("bedrag").to_pylist() == [3, 3, 3]


def test_xlsx_source(tmp_path: Path, make_meta: MakeMeta) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in [["bsn", "gemeente", "bedrag"], ["111222333", "Delft", 2.5], ["123456782", "@x", 1]]:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    result = ingest(out.getvalue(), make_meta(), tmp_path / "out", filename="in.xlsx")
    table = read_dataset(result.path, result.wrapped_key, MASTER, aad=AAD)
    assert table.column("bedrag").to_pylist() == [2.5, 1.0]
    assert result.formula_cells == {"gemeente": 1}


def test_errors_never_quote_values(tmp_path: Path, make_meta: MakeMeta) -> None:
    bodies = [
        b"bsn;gemeente;bedrag\n111222333;Delft;1;extra\n",
        b"bsn;gemeente;bedrag\n111222333;Delft;geheim\n",
        b"bsn;gemeente\n111222333;Delft\n",
    ]
    for body in bodies:
        with pytest.raises(IngestError) as caught:
            ingest(body, make_meta(), tmp_path / "out")
        message = str(caught.value)
        assert "111222333" not in message and "geheim" not in message and "extra" not in message


def test_formula_count_reads_first_characters_only() -> None:
    values = pa.array(["=SUM(A1)", "a=b", "", None, "+31", "é", "\tx", "-1", "@x", "ok"])
    assert formula_count(values) == 5
    assert formula_count(values.slice(1, 4)) == 1
    assert formula_count(pa.array(["=1"], pa.large_string())) == 1
    # A null slot may still hold bytes: they are not a value and never count.
    masked = pa.StringArray.from_buffers(
        2, values.buffers()[1], values.buffers()[2], pa.py_buffer(bytes([0b10]))
    )
    assert masked.to_pylist() == [None, "a=b"] and formula_count(masked) == 0


def test_sqlpull_loads_only_when_asked_for() -> None:
    import connectors

    assert connectors.pull_batches.__module__ == "connectors.sqlpull"
    with pytest.raises(AttributeError):
        connectors.no_such_name  # noqa: B018
