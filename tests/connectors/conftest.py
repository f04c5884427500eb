"""Fixtures for the connectors tests: metadata, keys and upload files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from connectors.pseudonym import Pseudonymiser
from connectors.schema import DatasetMeta


@pytest.fixture
def make_meta() -> Callable[..., DatasetMeta]:
    def make(**overrides: Any) -> DatasetMeta:
        fields: dict[str, Any] = {
            "name": "Registraties 2024",
            "legal_basis": "wpg-art22",
            "entity_columns": ["bsn"],
            "columns": {"bsn": "identifier", "gemeente": "category", "bedrag": "measure"},
            "retention_until": dt.date.today() + dt.timedelta(days=365),
        }
        fields.update(overrides)
        return DatasetMeta.model_validate(fields)

    return make


@pytest.fixture
def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(b"k" * 32)


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return write
