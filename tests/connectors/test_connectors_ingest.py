import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from connectors.crypto import generate_data_key
from connectors.errors import (
    IdentifierFound,
    SchemaError,
    UnreadableFile,
    UnsupportedFormat,
)
from connectors.ingest import prepare_dataset
from connectors.pii import PiiFinding
from connectors.pseudonym import Pseudonymiser
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta
from connectors.store import read_encrypted_parquet, write_encrypted_parquet

MakeMeta = Callable[..., DatasetMeta]
WriteFile = Callable[[str, str | bytes], Path]

RAW_IDENTIFIERS = ["111222333", "123456782", "012345672", "NL91ABNA0417164300", "Jan de Vries"]
UPLOAD = (
    "bsn;rekening;naam;gemeente;bedrag;datum\n"
    "111222333;NL91ABNA0417164300;Jan de Vries;Delft;10,5;31-01-2024\n"
    "123456782;NL91ABNA0417164300;Fatima Bakker;Utrecht;3;01-02-2024\n"
    "012345672;;Piet Jansen;Delft;;\n"
    "111222333;NL91ABNA0417164300;Jan de Vries;Delft;4;02-02-2024\n"
)


@pytest.fixture
def meta(make_meta: MakeMeta) -> DatasetMeta:
    return make_meta(
        columns={
            "bsn": "identifier",
            "rekening": "identifier",
            "naam": "identifier",
            "gemeente": "category",
            "bedrag": "measure",
            "datum": "date",
        }
    )


def all_text(table: pa.Table) -> str:
    return repr(table.to_pylist()) + repr(table.schema)


def test_prepare_dataset(
    write_file: WriteFile, meta: DatasetMeta, pseudonymiser: Pseudonymiser
) -> None:
    path = write_file("upload-1", UPLOAD)
    result = prepare_dataset(path, "registraties.csv", meta, pseudonymiser)

    assert result.rows == 4
    assert result.source_sha256 == hashlib.sha256(UPLOAD.encode()).hexdigest()
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
        ("naam", "name"),
    }
    table = result.table
    assert table.column_names == [c.name for c in result.columns]
    assert table.schema.types == [pa.string()] * 4 + [pa.float64(), pa.date32()]
    assert table.column("bedrag").to_pylist() == [10.5, 3.0, None, 4.0]
    assert table.column("datum").to_pylist()[0] == dt.date(2024, 1, 31)

    bsn = table.column("bsn").to_pylist()
    assert bsn[0] == bsn[3] != bsn[1]  # same person, same pseudonym
    assert table.column("rekening").to_pylist()[2] is None
    text = all_text(table)
    for raw in [*RAW_IDENTIFIERS, "12345672"]:
        assert raw not in text


def test_pseudonyms_are_stable_across_uploads_and_formats(
    write_file: WriteFile, tmp_path: Path, meta: DatasetMeta, pseudonymiser: Pseudonymiser
) -> None:
    from_csv = prepare_dataset(write_file("u1", UPLOAD), "a.csv", meta, pseudonymiser).table
    pq.write_table(pa.table({"bsn": ["111222333"]}), tmp_path / "u2")
    short = meta.model_copy(update={"columns": {"bsn": ColumnRole.IDENTIFIER}})
    from_parquet = prepare_dataset(tmp_path / "u2", "b.parquet", short, pseudonymiser).table
    assert from_parquet.column("bsn")[0] == from_csv.column("bsn")[0]
    other = Pseudonymiser(b"o" * 32)
    assert prepare_dataset(tmp_path / "u2", "b", short, other).table != from_parquet


def test_undeclared_bsn_column_is_refused(
    write_file: WriteFile, make_meta: MakeMeta, pseudonymiser: Pseudonymiser
) -> None:
    content = "id;klant;bedrag\n1;111222333;5\n2;123456782;6\n3;012345672;7\n"
    meta = make_meta(entity_columns=["id"], columns={"id": "category", "bedrag": "measure"})
    with pytest.raises(IdentifierFound) as info:
        prepare_dataset(write_file("u", content), "a.csv", meta, pseudonymiser)
    error = info.value
    assert (error.column, error.detector) == ("klant", "bsn")
    shown = str(error) + repr(error) + repr(error.args)
    for raw in ["111222333", "123456782", "012345672", "12345672"]:
        assert raw not in shown
    assert error.__cause__ is None and error.__context__ is None


def test_undeclared_harmless_column_gets_a_role(
    write_file: WriteFile, make_meta: MakeMeta, pseudonymiser: Pseudonymiser
) -> None:
    content = "bsn,gemeente,bedrag,soort,leeftijd\n111222333,Delft,1,diefstal,40\n"
    result = prepare_dataset(write_file("u", content), "a.csv", make_meta(), pseudonymiser)
    assert result.columns[3:] == [
        ColumnSpec("soort", "string", ColumnRole.CATEGORY),
        ColumnSpec("leeftijd", "integer", ColumnRole.MEASURE),
    ]


def test_declared_column_missing(
    write_file: WriteFile, make_meta: MakeMeta, pseudonymiser: Pseudonymiser
) -> None:
    with pytest.raises(SchemaError, match="'bedrag' is not in the file"):
        prepare_dataset(
            write_file("u", "bsn,gemeente\n111222333,Delft\n"), "a.csv", make_meta(), pseudonymiser
        )


def test_unparseable_date_names_column_not_value(
    write_file: WriteFile, make_meta: MakeMeta, pseudonymiser: Pseudonymiser
) -> None:
    meta = make_meta(columns={"bsn": "identifier", "datum": "date"})
    content = "bsn,datum\n111222333,2024-01-01\n123456782,morgen-vroeg\n"
    with pytest.raises(SchemaError, match="'datum' has role 'date'") as info:
        prepare_dataset(write_file("u", content), "a.csv", meta, pseudonymiser)
    assert "morgen" not in str(info.value)


def test_unsupported_upload(
    write_file: WriteFile, make_meta: MakeMeta, pseudonymiser: Pseudonymiser
) -> None:
    with pytest.raises(UnreadableFile):  # XLSX is read now; a broken one is refused
        prepare_dataset(write_file("u", b"PK\x03\x04rest"), "a.xlsx", make_meta(), pseudonymiser)
    with pytest.raises(UnsupportedFormat):
        prepare_dataset(write_file("u", b"\x00\x01"), "a.exe", make_meta(), pseudonymiser)


def test_stored_result_round_trips_encrypted(
    write_file: WriteFile, tmp_path: Path, meta: DatasetMeta, pseudonymiser: Pseudonymiser
) -> None:
    result = prepare_dataset(write_file("u", UPLOAD), "a.csv", meta, pseudonymiser)
    key, target = generate_data_key(), tmp_path / "store" / "1.parquet.enc"
    target.parent.mkdir()
    write_encrypted_parquet(result.table, target, key, aad=b"dataset:1")
    assert read_encrypted_parquet(target, key, aad=b"dataset:1").equals(result.table)
    stored = target.read_bytes()
    for raw in [*RAW_IDENTIFIERS, "Delft"]:
        assert raw.encode() not in stored


def test_findings_are_returned_for_declared_columns(
    write_file: WriteFile, make_meta: MakeMeta, pseudonymiser: Pseudonymiser
) -> None:
    content = "bsn,gemeente,bedrag\n111222333,Delft,1\n"
    result = prepare_dataset(write_file("u", content), "a.csv", make_meta(), pseudonymiser)
    assert result.findings == [PiiFinding("bsn", "bsn", 1.0)]
