"""The one ingest pipeline every source feeds (upload, drop folder, SQL pull), over ``connectors``.

This adapter keeps the gateway independent of how ``connectors`` reads: it
hands over the spooled source and a target path, and gets back what was
stored and found. Connector errors become gateway errors here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.errors import (
    IngestError,
    QuarantineRefused,
    UnsafeFileName,
    UnsupportedFormat,
    UploadTooLarge,
)
from connectors.filenames import safe_filename
from connectors.pipeline import IngestOptions, ingest_file
from connectors.pseudonym import Pseudonymiser
from connectors.schema import DatasetMeta, parse_meta
from connectors.spool import EncryptedSpool
from gateway.core.errors import BadInput, PayloadTooLarge, SluisError, UnsupportedMedia

__all__ = ["IngestOptions", "Prepared", "check_filename", "gateway_error", "parse_request", "run"]

# Options the gateway reads from ``meta`` besides the dataset description.
_OPTION_KEYS = ("max_quarantine_share",)


@dataclass
class Prepared:
    """A validated, pseudonymised, encrypted dataset file, not yet committed."""

    rows: int
    columns: list[dict[str, Any]]
    findings: list[dict[str, Any]]
    source_sha256: str
    wrapped_key: bytes = field(repr=False)
    quarantine: dict[str, Any] = field(default_factory=dict)
    formula_cells: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined_rows(self) -> int:
        """Rows set aside (with the steward's consent)."""
        return int(self.quarantine.get("rejected_rows", 0))


def gateway_error(exc: IngestError) -> SluisError:
    """The gateway error (and so HTTP status) for a refusal by ``connectors``."""
    if isinstance(exc, UnsupportedFormat):
        return UnsupportedMedia(str(exc))
    if isinstance(exc, UploadTooLarge):
        return PayloadTooLarge(str(exc))
    if isinstance(exc, QuarantineRefused):
        # Row numbers and columns only: the report never holds values.
        return BadInput({"message": str(exc), "quarantine": exc.report.to_dict()})
    return BadInput(str(exc))


def check_filename(name: str) -> str:
    """A plain file name (no folders, no control characters), else 422."""
    try:
        return safe_filename(name)
    except UnsafeFileName as exc:
        raise BadInput(str(exc)) from exc


def parse_request(meta_raw: str | bytes) -> tuple[DatasetMeta, IngestOptions]:
    """Split ``meta`` into the dataset description and the steward's ingest options."""
    try:
        raw = json.loads(meta_raw)
    except ValueError:
        raise BadInput("meta must be a JSON object (see CONTRACT.md)") from None
    if not isinstance(raw, dict):
        raise BadInput("meta must be a JSON object (see CONTRACT.md)")
    options = {k: raw.pop(k) for k in _OPTION_KEYS if k in raw}
    share = options.get("max_quarantine_share", 0.0)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 1:
        raise BadInput("meta.max_quarantine_share must be a number from 0 up to (not incl.) 1")
    try:
        meta = parse_meta(json.dumps(raw))
    except IngestError as exc:
        raise gateway_error(exc) from exc
    return meta, IngestOptions(max_quarantine_share=float(share))


def run(
    spool: EncryptedSpool,
    filename: str,
    meta: DatasetMeta,
    options: IngestOptions,
    *,
    pseudonymiser: Pseudonymiser,
    master_key: bytes,
    out_path: Path,
    aad: bytes,
) -> Prepared:
    """Stream a spooled source through the connectors' pipeline into ``out_path``.

    Raises gateway errors on refusal; nothing is left at ``out_path`` then.
    """
    if spool.size == 0:
        raise BadInput("the file is empty: send a file with a header row and data rows")
    try:
        result = ingest_file(
            spool.open(),
            filename,
            meta,
            master_key=master_key,
            out_path=out_path,
            aad=aad,
            options=options,
            pseudonymiser=pseudonymiser,
        )
    except IngestError as exc:
        raise gateway_error(exc) from exc
    return Prepared(
        rows=result.rows,
        columns=[{"name": c.name, "type": c.type, "role": str(c.role)} for c in result.columns],
        findings=[
            {"column": f.column, "detector": f.detector, "share": round(f.share, 4)}
            for f in result.findings
        ],
        source_sha256=result.source_sha256,
        wrapped_key=result.wrapped_key,
        quarantine=result.quarantine.to_dict(),
        formula_cells=dict(result.formula_cells),
    )
