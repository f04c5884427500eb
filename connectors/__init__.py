"""The ways data comes into Sluis: validate, detect identifiers, pseudonymise, encrypt.

A library with no import from ``gateway/``. Large uploads stream through
:func:`ingest_file` (from a path, or an :class:`EncryptedSpool` the HTTP body was
written to), drop-folder files are checked with :func:`verify_manifest`, and
:func:`pull_batches` reads a partner's database into :func:`ingest_batches`.
The in-memory :func:`prepare_dataset` + :func:`write_encrypted_parquet` pair is
kept for small files. See connectors/README.md.
"""

from typing import TYPE_CHECKING, Any

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
    BadColumnName,
    BadSignature,
    EmptyFile,
    IdentifierFound,
    IngestError,
    InvalidEncoding,
    LineTooLong,
    MalformedCsv,
    ManifestError,
    NestedType,
    NoRows,
    QuarantineRefused,
    SchemaError,
    SuspiciousArchive,
    UnreadableFile,
    UnsafeFileName,
    UnsupportedFormat,
    UploadTooLarge,
)
from connectors.filenames import safe_filename
from connectors.formats import FileFormat, detect_format, read_table
from connectors.ingest import IngestResult, prepare_dataset
from connectors.keys import ErasureReport, crypto_erase, rewrap_key
from connectors.manifest import Manifest, check_file, sign_manifest, verify_manifest
from connectors.pii import PiiFinding, detect_identifiers, is_valid_bsn, is_valid_iban
from connectors.pipeline import (
    IngestOptions,
    StreamResult,
    ingest_batches,
    ingest_file,
    open_dataset,
    read_dataset,
)
from connectors.pseudonym import Pseudonymiser, project_key, rekey_to_project, stage1_key
from connectors.quarantine import QuarantineEntry, QuarantineReport
from connectors.readers import BatchStream, open_batches
from connectors.schema import ColumnRole, ColumnSpec, DatasetMeta, parse_meta, resolve_schema
from connectors.spool import EncryptedSpool
from connectors.store import read_encrypted_parquet, write_encrypted_parquet

if TYPE_CHECKING:
    from connectors.sqlpull import SourceError, pull_batches

__all__ = [
    "BadColumnName",
    "BadSignature",
    "BatchStream",
    "ColumnRole",
    "ColumnSpec",
    "DatasetMeta",
    "DecryptionFailed",
    "EmptyFile",
    "EncryptedSpool",
    "ErasureReport",
    "FileFormat",
    "IdentifierFound",
    "IngestError",
    "IngestOptions",
    "IngestResult",
    "InvalidEncoding",
    "LineTooLong",
    "MalformedCsv",
    "Manifest",
    "ManifestError",
    "NestedType",
    "NoRows",
    "PiiFinding",
    "Pseudonymiser",
    "QuarantineEntry",
    "QuarantineRefused",
    "QuarantineReport",
    "SchemaError",
    "SourceError",
    "StreamResult",
    "SuspiciousArchive",
    "UnreadableFile",
    "UnsafeFileName",
    "UnsupportedFormat",
    "UploadTooLarge",
    "check_file",
    "crypto_erase",
    "decrypt",
    "derive_key",
    "detect_format",
    "detect_identifiers",
    "encrypt",
    "generate_data_key",
    "ingest_batches",
    "ingest_file",
    "is_valid_bsn",
    "is_valid_iban",
    "open_batches",
    "open_dataset",
    "parse_meta",
    "prepare_dataset",
    "project_key",
    "pull_batches",
    "read_dataset",
    "read_encrypted_parquet",
    "read_table",
    "rekey_to_project",
    "resolve_schema",
    "rewrap_key",
    "safe_filename",
    "sign_manifest",
    "stage1_key",
    "unwrap_key",
    "verify_manifest",
    "wrap_key",
    "write_encrypted_parquet",
]


def __getattr__(name: str) -> Any:
    # SQL pulls load SQLAlchemy (~0.15 s): only when one is asked for, not on every
    # import of connectors (a file ingest, the gateway's start).
    if name in {"SourceError", "pull_batches"}:
        from connectors import sqlpull

        return getattr(sqlpull, name)
    raise AttributeError(f"module 'connectors' has no attribute {name!r}")
