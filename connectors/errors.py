"""Why an upload was refused: one exception tree, messages name columns, never values.

::

    IngestError                 (column: str | None)
    ├── UnsupportedFormat       the file type is not accepted            -> 415
    ├── UploadTooLarge          the file exceeds the size limit          -> 413
    ├── UnreadableFile          the file cannot be parsed                -> 422
    ├── SchemaError             file and declared metadata disagree      -> 422
    └── IdentifierFound         an undeclared column holds identifiers   -> 422
                                (column, detector)

The gateway maps this tree to HTTP status codes in one place.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "IdentifierFound",
    "IngestError",
    "SchemaError",
    "UnreadableFile",
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
