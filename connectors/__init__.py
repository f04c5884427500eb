"""The ways data comes into Sluis: validate, detect identifiers, pseudonymise, encrypt.

A library with no import from ``gateway/``: the gateway calls :func:`prepare_dataset`
on an upload, then stores the result with :func:`write_encrypted_parquet`.
"""

from connectors.crypto import (
    DecryptionFailed,
    decrypt,
    derive_key,
    encrypt,
    generate_data_key,
    unwrap_key,
    wrap_key,
)
from connectors.errors import (
    IdentifierFound,
    IngestError,
    SchemaError,
    UnreadableFile,
    UnsupportedFormat,
    UploadTooLarge,
)
from connectors.formats import FileFormat, detect_format, read_table
from connectors.ingest import IngestResult, prepare_dataset
from connectors.pii import PiiFinding, detect_identifiers, is_valid_bsn, is_valid_iban
from connectors.pseudonym import Pseudonymiser
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta, parse_meta, resolve_schema
from connectors.store import read_encrypted_parquet, write_encrypted_parquet

__all__ = [
    "ColumnRole",
    "ColumnSpec",
    "DatasetMeta",
    "DecryptionFailed",
    "FileFormat",
    "IdentifierFound",
    "IngestError",
    "IngestResult",
    "PiiFinding",
    "Pseudonymiser",
    "SchemaError",
    "UnreadableFile",
    "UnsupportedFormat",
    "UploadTooLarge",
    "decrypt",
    "derive_key",
    "detect_format",
    "detect_identifiers",
    "encrypt",
    "generate_data_key",
    "is_valid_bsn",
    "is_valid_iban",
    "parse_meta",
    "prepare_dataset",
    "read_encrypted_parquet",
    "read_table",
    "resolve_schema",
    "unwrap_key",
    "wrap_key",
    "write_encrypted_parquet",
]
