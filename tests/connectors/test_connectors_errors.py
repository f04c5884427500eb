import pickle

import pytest

from connectors.errors import (
    IdentifierFound,
    IngestError,
    SchemaError,
    UnreadableFile,
    UnsupportedFormat,
    UploadTooLarge,
)


@pytest.mark.parametrize(
    "error", [UnsupportedFormat, UploadTooLarge, UnreadableFile, SchemaError, IdentifierFound]
)
def test_every_refusal_is_an_ingest_error(error: type[Exception]) -> None:
    assert issubclass(error, IngestError)


def test_identifier_found_names_column_and_detector() -> None:
    error = IdentifierFound("klant", "bsn")
    assert (error.column, error.detector) == ("klant", "bsn")
    assert "'klant'" in str(error) and "'bsn'" in str(error)


@pytest.mark.parametrize(
    "error",
    [SchemaError("declared column 'x' is missing", column="x"), IdentifierFound("k", "iban")],
)
def test_errors_survive_pickling(error: IngestError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert copy.column == error.column
    assert getattr(copy, "detector", None) == getattr(error, "detector", None)
