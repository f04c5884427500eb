"""Why an upload was refused: one exception tree, messages name columns, never values.

::

    IngestError                 (column: str | None)
    ├── UnsupportedFormat       the file type is not accepted            -> 415
    ├── UploadTooLarge          the file exceeds the size limit          -> 413
    ├── UnsafeFileName          traversal or odd characters in a name    -> 422
    ├── UnreadableFile          the file cannot be parsed                -> 422
    │   ├── MalformedCsv        a row with the wrong field count (line)
    │   ├── InvalidEncoding     not valid text in the detected encoding
    │   ├── LineTooLong         a line over the configured cap
    │   ├── NestedType          Parquet/JSON with nested (list/struct) values
    │   └── SuspiciousArchive   an XLSX over the zip-bomb limits
    ├── SchemaError             file and declared metadata disagree      -> 422
    │   ├── EmptyFile           no bytes, or no header
    │   ├── NoRows              a header but no data rows
    │   ├── BadColumnName       an empty, duplicate or over-long column name
    │   └── QuarantineRefused   rows failed validation (report attached)
    ├── IdentifierFound         an undeclared column holds identifiers   -> 422
    │                           (column, detector)
    └── ManifestError           a drop-folder manifest is invalid        -> 422
        └── BadSignature        its signature does not verify

The gateway maps this tree to HTTP status codes in one place.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadColumnName",
    "BadSignature",
    "EmptyFile",
    "IdentifierFound",
    "IngestError",
    "InvalidEncoding",
    "LineTooLong",
    "MalformedCsv",
    "ManifestError",
    "NestedType",
    "NoRows",
    "QuarantineRefused",
    "SchemaError",
    "SuspiciousArchive",
    "UnreadableFile",
    "UnsafeFileName",
    "UnsupportedFormat",
    "UploadTooLarge",
]


class IngestError(Exception):
    """Base of every refusal; ``column`` names the column at fault, if any."""

    column: str | None = None

    def __init__(self, message: str, *, column: str | None = None) -> None:
        super().__init__(message)
        self.column = column

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the attributes when an error crosses a process boundary.
        return (type(self), self.args, self.__dict__)


class UnsupportedFormat(IngestError):
    """The file format is unknown or not accepted (yet)."""


class UploadTooLarge(IngestError):
    """The upload exceeds the configured size limit."""


class UnreadableFile(IngestError):
    """The file could not be parsed in its detected format."""


class SchemaError(IngestError):
    """The file and the steward's declared metadata do not fit together."""


class IdentifierFound(IngestError):
    """A column not declared as identifier holds values that look like identifiers."""

    detector: str

    def __init__(self, column: str, detector: str, declared_role: str | None = None) -> None:
        state = "is not declared" if declared_role is None else f"is declared {declared_role!r}"
        super().__init__(
            f"column {column!r} {state} but holds identifiers "
            f"(detector {detector!r}); declare it with role 'identifier' or remove it",
            column=column,
        )
        self.detector = detector
        self.declared_role = declared_role

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.column, self.detector, self.declared_role))


class UnsafeFileName(IngestError):
    """A file name with path components, control characters or other odd characters."""


class MalformedCsv(UnreadableFile):
    """A CSV row has a different number of fields than the header."""


class InvalidEncoding(UnreadableFile):
    """The text is not valid in its detected encoding (or mixes encodings)."""


class LineTooLong(UnreadableFile):
    """A line (or row) is longer than the configured cap."""


class NestedType(UnreadableFile):
    """A column holds nested values (lists, structs, maps), which Sluis does not store."""


class SuspiciousArchive(UnreadableFile):
    """An XLSX (zip) archive exceeds the size, ratio, row or column limits."""


class EmptyFile(SchemaError):
    """The file is empty or has no header."""


class NoRows(SchemaError):
    """The file has a header but no data rows."""


class BadColumnName(SchemaError):
    """A column name is empty, duplicated (ignoring case) or too long."""


class QuarantineRefused(SchemaError):
    """Rows failed validation and the steward did not accept dropping them.

    ``report`` is a :class:`connectors.quarantine.QuarantineReport`: row numbers,
    columns and reasons only.
    """

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.args[0], self.report))


class ManifestError(IngestError):
    """A drop-folder manifest is malformed or does not match its file."""


class BadSignature(ManifestError):
    """The manifest's Ed25519 signature does not verify under the organisation's key."""
