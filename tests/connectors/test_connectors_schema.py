import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from pydantic import ValidationError

from connectors.errors import IdentifierFound, SchemaError
from connectors.pii import PiiFinding
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta, parse_meta, resolve_schema

MakeMeta = Callable[..., DatasetMeta]
FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()


def meta_json(**overrides: Any) -> str:
    fields: dict[str, Any] = {
        "name": "Registraties 2024",
        "legal_basis": "wpg-art22",
        "entity_columns": ["bsn"],
        "columns": {"bsn": "identifier"},
        "retention_until": FUTURE,
    }
    fields.update(overrides)
    return json.dumps(fields)


def test_valid_meta_is_frozen() -> None:
    meta = parse_meta(meta_json())
    assert meta.columns == {"bsn": ColumnRole.IDENTIFIER}
    with pytest.raises(ValidationError):
        meta.name = "x"


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"name": ""}, "name"),
        ({"name": "a/b"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"legal_basis": "WPG art 22"}, "legal_basis"),
        ({"legal_basis": "x" * 51}, "legal_basis"),
        ({"entity_columns": []}, "entity_columns"),
        ({"entity_columns": ["kenteken"]}, "entity column 'kenteken' is not declared"),
        ({"entity_columns": ["bsn", "bsn"]}, "twice"),
        ({"columns": {"bsn": "secret"}}, "columns.bsn"),
        ({"columns": {"bsn": "identifier", " ": "category"}}, "must not be empty"),
        ({"retention_until": dt.date.today().isoformat()}, "in the future"),
        ({"retention_until": "31-12-2030"}, "retention_until"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_meta_is_a_schema_error(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(SchemaError, match=problem) as info:
        parse_meta(meta_json(**overrides))
    assert "WPG art 22" not in str(info.value) and "31-12-2030" not in str(info.value)


def test_resolve_schema_in_file_order(make_meta: MakeMeta) -> None:
    table = pa.table(
        {
            "gemeente": ["Delft"],
            "bsn": pa.array([111222333]),
            "bedrag": [1.5],
            "aantal": pa.array([3], pa.int32()),
            "datum": pa.array([dt.date(2024, 1, 1)]),
            "tijd": pa.array([dt.datetime(2024, 1, 1)]),
            "actief": [True],
            "leeg": pa.nulls(1),
        }
    )
    specs = resolve_schema(table, make_meta(), [PiiFinding("bsn", "bsn", 1.0)])
    assert specs == [
        ColumnSpec("gemeente", "string", ColumnRole.CATEGORY),
        ColumnSpec("bsn", "string", ColumnRole.IDENTIFIER),
        ColumnSpec("bedrag", "float", ColumnRole.MEASURE),
        ColumnSpec("aantal", "integer", ColumnRole.MEASURE),
        ColumnSpec("datum", "date", ColumnRole.DATE),
        ColumnSpec("tijd", "timestamp", ColumnRole.DATE),
        ColumnSpec("actief", "boolean", ColumnRole.CATEGORY),
        ColumnSpec("leeg", "string", ColumnRole.CATEGORY),
    ]


def test_declared_column_missing(make_meta: MakeMeta) -> None:
    table = pa.table({"bsn": ["111222333"], "gemeente": ["Delft"]})
    with pytest.raises(SchemaError, match="'bedrag' is not in the file") as info:
        resolve_schema(table, make_meta(), [])
    assert info.value.column == "bedrag"


def test_undeclared_identifier_column_is_refused(make_meta: MakeMeta) -> None:
    table = pa.table(
        {"bsn": ["111222333"], "gemeente": ["x"], "bedrag": [1], "rekening": ["NL91ABNA0417164300"]}
    )
    findings = [PiiFinding("rekening", "email", 0.6), PiiFinding("rekening", "iban", 1.0)]
    with pytest.raises(IdentifierFound) as info:
        resolve_schema(table, make_meta(), findings)
    assert (info.value.column, info.value.detector) == ("rekening", "iban")


def test_declared_identifier_with_findings_is_fine(make_meta: MakeMeta) -> None:
    table = pa.table({"bsn": ["111222333"], "gemeente": ["x"], "bedrag": [1]})
    assert resolve_schema(table, make_meta(), [PiiFinding("bsn", "bsn", 1.0)])[0].type == "string"


@pytest.mark.parametrize(
    ("role", "values", "expected"),
    [
        ("measure", ["1.5"], None),
        ("measure", [True], None),
        ("date", [1], None),
        ("date", ["31-01-2024"], "date"),
        ("text", [1], "integer"),
        ("quasi_identifier", ["1234 AB"], "string"),
    ],
)
def test_role_and_type(
    make_meta: MakeMeta, role: str, values: list[object], expected: str | None
) -> None:
    table = pa.table({"bsn": ["111222333"], "c": values})
    meta = make_meta(columns={"bsn": "identifier", "c": role})
    if expected is None:
        with pytest.raises(SchemaError, match=f"'c' has role '{role}'"):
            resolve_schema(table, meta, [])
    else:
        assert resolve_schema(table, meta, [])[1] == ColumnSpec("c", expected, ColumnRole(role))


def test_unsupported_type(make_meta: MakeMeta) -> None:
    table = pa.table({"bsn": ["111222333"], "lijst": [[1, 2]]})
    with pytest.raises(SchemaError, match="'lijst' has unsupported type"):
        resolve_schema(table, make_meta(columns={"bsn": "identifier"}), [])


def test_declared_non_identifier_with_strong_finding_is_refused() -> None:
    """A steward who declares a phone column as a category would store it raw: refused."""
    table = pa.table({"person": ["a", "b"], "contact": ["x", "y"]})
    meta = DatasetMeta.model_validate(
        {
            "name": "t",
            "legal_basis": "wpg-art22",
            "entity_columns": ["person"],
            "columns": {"person": "identifier", "contact": "category"},
            "retention_until": "2999-01-01",
        }
    )
    with pytest.raises(IdentifierFound) as caught:
        resolve_schema(table, meta, [PiiFinding("contact", "phone", 1.0)])
    assert caught.value.column == "contact" and "declared 'category'" in str(caught.value)
    # A fuzzy detector does not overrule the declaration.
    specs = resolve_schema(table, meta, [PiiFinding("contact", "name", 1.0)])
    assert [s.role for s in specs][1] == "category"
