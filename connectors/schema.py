"""The steward's declared metadata and the resolved column schema of an upload.

Column types are a small closed vocabulary so every engine and UI speaks the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import pyarrow as pa
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.errors import IdentifierFound, SchemaError
from connectors.pii import PiiFinding

__all__ = [
    "COLUMN_TYPES",
    "STRONG_DETECTORS",
    "ColumnRole",
    "ColumnSpec",
    "DatasetMeta",
    "arrow_type_name",
    "parse_meta",
    "resolve_schema",
]

COLUMN_TYPES = frozenset({"string", "integer", "float", "boolean", "date", "timestamp"})
_NUMERIC = frozenset({"integer", "float"})


class ColumnRole(StrEnum):
    """What a column means for disclosure control."""

    IDENTIFIER = "identifier"  # direct identifier: pseudonymised on the way in
    QUASI_IDENTIFIER = "quasi_identifier"
    CATEGORY = "category"
    MEASURE = "measure"
    DATE = "date"
    TEXT = "text"


_Name = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[\w .\-]+$")]
_Slug = Annotated[
    str, StringConstraints(min_length=1, max_length=50, pattern=r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
]


class DatasetMeta(BaseModel):
    """Metadata a steward declares with an upload (the ``meta`` field of the contract)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: _Name
    legal_basis: _Slug
    entity_columns: list[str] = Field(min_length=1)
    columns: dict[str, ColumnRole]
    retention_until: dt.date

    @field_validator("columns")
    @classmethod
    def _column_names_not_blank(cls, columns: dict[str, ColumnRole]) -> dict[str, ColumnRole]:
        if any(not name.strip() for name in columns):
            raise ValueError("column names must not be empty")
        return columns

    @field_validator("retention_until")
    @classmethod
    def _retention_in_future(cls, value: dt.date) -> dt.date:
        if value <= dt.date.today():
            raise ValueError("retention_until must be a date in the future")
        return value

    @model_validator(mode="after")
    def _entity_columns_declared(self) -> DatasetMeta:
        if len(set(self.entity_columns)) != len(self.entity_columns):
            raise ValueError("entity_columns lists a column twice")
        for column in self.entity_columns:
            if column not in self.columns:
                raise ValueError(f"entity column {column!r} is not declared in columns")
        return self


def parse_meta(raw: str | bytes) -> DatasetMeta:
    """Parse the JSON ``meta`` of an upload, turning validation errors into a SchemaError.

    The message lists each problem by field and reason, without echoing input values.
    """
    try:
        return DatasetMeta.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'meta'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise SchemaError(f"invalid dataset metadata: {problems}") from None


@dataclass(frozen=True)
class ColumnSpec:
    """A column as stored: its name, its type (one of ``COLUMN_TYPES``) and its role."""

    name: str
    type: str
    role: ColumnRole


def arrow_type_name(column: str, arrow_type: pa.DataType) -> str:
    """Map an Arrow type to the column type vocabulary, or raise SchemaError if unsupported."""
    if pa.types.is_dictionary(arrow_type):
        return arrow_type_name(column, arrow_type.value_type)
    if (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
        or pa.types.is_null(arrow_type)  # an all-empty column
    ):
        return "string"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_timestamp(arrow_type):
        return "timestamp"
    raise SchemaError(f"column {column!r} has unsupported type {arrow_type}", column=column)


def _default_role(type_name: str) -> ColumnRole:
    if type_name in _NUMERIC:
        return ColumnRole.MEASURE
    if type_name in {"date", "timestamp"}:
        return ColumnRole.DATE
    return ColumnRole.CATEGORY


def _resolve_type(column: str, type_name: str, role: ColumnRole) -> str:
    if role is ColumnRole.IDENTIFIER:
        return "string"  # it will hold pseudonyms
    if role is ColumnRole.MEASURE and type_name not in _NUMERIC:
        raise SchemaError(
            f"column {column!r} has role 'measure' but holds {type_name} values, not numbers",
            column=column,
        )
    if role is ColumnRole.DATE and type_name == "string":
        return "date"  # parsed from text on ingest
    if role is ColumnRole.DATE and type_name not in {"date", "timestamp"}:
        raise SchemaError(
            f"column {column!r} has role 'date' but holds {type_name} values, not dates",
            column=column,
        )
    return type_name


# Detectors precise enough to overrule a steward's declaration; name and
# date-of-birth hints are too fuzzy for that and only guard undeclared columns.
STRONG_DETECTORS = frozenset(
    {"bsn", "iban", "email", "phone", "postcode_house_number", "licence_plate"}
)


def resolve_schema(
    table: pa.Table, meta: DatasetMeta, findings: Sequence[PiiFinding]
) -> list[ColumnSpec]:
    """Match the file's columns to the declared metadata, in file order.

    Every declared column must be in the file. A column in the file that was not
    declared is refused with IdentifierFound if PII detection flagged it, and
    otherwise gets a role from its type (numbers: measure, dates: date, else
    category). A declared column that is not an identifier but matches one of
    the checksum or pattern detectors in ``STRONG_DETECTORS`` is refused too.
    Identifier columns become strings; measures must be numeric;
    a text column declared as date is parsed as a date on ingest.
    """
    names = list(table.column_names)
    present = set(names)
    if len(present) != len(names):
        raise SchemaError("the file has duplicate column names")
    for column in meta.columns:
        if column not in present:
            raise SchemaError(f"declared column {column!r} is not in the file", column=column)
    for column in meta.entity_columns:
        if column not in meta.columns:
            raise SchemaError(f"entity column {column!r} is not declared", column=column)

    flagged: dict[str, PiiFinding] = {}
    for finding in sorted(findings, key=lambda f: -f.share):
        flagged.setdefault(finding.column, finding)
    strong = {c: f for c, f in flagged.items() if f.detector in STRONG_DETECTORS}

    specs: list[ColumnSpec] = []
    for field in table.schema:
        column = field.name
        type_name = arrow_type_name(column, field.type)
        role = meta.columns.get(column)
        if role is None:
            if column in flagged:
                raise IdentifierFound(column, flagged[column].detector)
            role = _default_role(type_name)
        elif role is not ColumnRole.IDENTIFIER and column in strong:
            # Declared, but as something else: stored raw it could be grouped on and leak.
            raise IdentifierFound(column, strong[column].detector, str(role))
        specs.append(ColumnSpec(column, _resolve_type(column, type_name, role), role))
    return specs


# The Arrow type each schema type is stored as (timestamps keep their source's zone).
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}
