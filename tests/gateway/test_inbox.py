"""The drop folder: signed manifests in, bad signatures and checksums out to rejected/."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from connectors import manifest
from gateway.models import AuditEntry, Dataset, InboxFile, OrganisationKey
from tests.factories import World
from tests.gateway.ingest_helpers import (
    PLANTED,
    assert_never_stored,
    csv_bytes,
    planted_meta,
    planted_table,
    run_cli_opa,
)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"  # outside the data dir, as a partner share would be
    folder.mkdir()
    return folder


def _register(world: World, opa_url: str, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "politie.pub").write_bytes(pem)
    result = run_cli_opa(world, opa_url, "org", "add-key", "politie", str(tmp_path / "politie.pub"))
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.strip()
        == hashlib.sha256(
            key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        ).hexdigest()
    )


def _drop(
    folder: Path,
    key: Ed25519PrivateKey,
    name: str,
    content: bytes,
    org: str = "politie",
    meta: dict[str, Any] | None = None,
) -> None:
    """Data file, then signature, then manifest: the order partners write them in."""
    (folder / name).write_bytes(content)
    body, signature = manifest.sign_manifest(
        key, folder / name, org=org, meta=meta or planted_meta("dropped")
    )
    (folder / f"{name}{manifest.SIGNATURE_SUFFIX}").write_bytes(signature)
    (folder / f"{name}{manifest.MANIFEST_SUFFIX}").write_bytes(body)


def _planted(seed: int) -> bytes:
    return csv_bytes(planted_table(seed, people=30))


def _watch(world: World, opa_url: str, drop: Path) -> list[dict[str, Any]]:
    result = run_cli_opa(world, opa_url, "inbox", "watch", str(drop), "--once", "--settle", "0")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_signed_file_is_ingested_once(
    world: World,
    opa_url: str,
    key: Ed25519PrivateKey,
    drop: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _register(world, opa_url, key, tmp_path)
    content = _planted(1)
    _drop(drop, key, "incidents.csv", content)
    (outcome,) = _watch(world, opa_url, drop)
    assert outcome["status"] == "ingested" and outcome["version"] == 1, outcome
    assert not (drop / "incidents.csv").exists()  # raw data is not kept
    assert (drop / "done" / f"incidents.csv{manifest.MANIFEST_SUFFIX}").exists()
    assert (drop / "done" / f"incidents.csv{manifest.SIGNATURE_SUFFIX}").exists()
    with world.rt.read() as s:
        dataset = s.scalars(select(Dataset)).one()
        assert dataset.latest.source == "inbox"
        row = s.get(InboxFile, hashlib.sha256(content).hexdigest())
        assert row is not None and row.status == "ingested"
        assert row.dataset_version_id == dataset.latest.id
        actions = set(s.scalars(select(AuditEntry.action)))
    assert {"org.add_key", "inbox.ingest", "dataset.upload"} <= actions

    # The same file dropped again is not ingested twice.
    _drop(drop, key, "incidents.csv", content)
    (again,) = _watch(world, opa_url, drop)
    assert again["status"] == "duplicate"
    with world.rt.read() as s:
        assert len(s.scalars(select(Dataset)).one().versions) == 1
    assert _watch(world, opa_url, drop) == []
    assert_never_stored(world, PLANTED, caplog.text)


@pytest.mark.parametrize(
    ("case", "fragment"),
    [
        ("other-key", "signature does not verify"),
        ("no-signature", "signature file"),
        ("checksum", "sha256 does not match"),
        ("undeclared-identifier", "bsn"),
        ("unknown-org", "no organisation"),
    ],
)
def test_bad_drops_are_rejected_with_a_reason(
    world: World,
    opa_url: str,
    key: Ed25519PrivateKey,
    drop: Path,
    tmp_path: Path,
    case: str,
    fragment: str,
) -> None:
    _register(world, opa_url, key, tmp_path)
    content = _planted(2)
    if case == "other-key":
        _drop(drop, Ed25519PrivateKey.generate(), "x.csv", content)
    elif case == "checksum":
        _drop(drop, key, "x.csv", content)
        (drop / "x.csv").write_bytes(content + b"\n")  # changed after signing
    elif case == "undeclared-identifier":
        meta = planted_meta("dropped")
        meta["columns"].pop("bsn")
        meta["columns"]["region"] = "category"
        meta["entity_columns"] = ["region"]
        _drop(drop, key, "x.csv", content, meta=meta)
    elif case == "unknown-org":
        _drop(drop, key, "x.csv", content, org="nobody")
    else:
        _drop(drop, key, "x.csv", content)
    if case == "no-signature":
        (drop / f"x.csv{manifest.SIGNATURE_SUFFIX}").unlink()
    (outcome,) = _watch(world, opa_url, drop)
    assert outcome["status"] == "rejected" and fragment in outcome["reason"], outcome
    assert (drop / "rejected" / "x.csv").exists()
    assert fragment in (drop / "rejected" / "x.csv.reason").read_text()
    reason = (drop / "rejected" / "x.csv.reason").read_text()
    assert not any(p in reason for p in PLANTED)
    with world.rt.read() as s:
        assert s.scalars(select(Dataset)).all() == []
        rejects = s.scalars(select(AuditEntry).where(AuditEntry.action == "inbox.reject")).all()
        assert len(rejects) == 1
        assert not any(p in json.dumps(rejects[0].details) for p in PLANTED)
    assert_never_stored(world, PLANTED)


def test_add_key_refuses_junk_and_duplicates(
    world: World, opa_url: str, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    _register(world, opa_url, key, tmp_path)
    result = run_cli_opa(world, opa_url, "org", "add-key", "politie", str(tmp_path / "politie.pub"))
    assert result.exit_code == 1 and "already has" in result.output
    (tmp_path / "junk").write_bytes(b"not a key")
    result = run_cli_opa(world, opa_url, "org", "add-key", "politie", str(tmp_path / "junk"))
    assert result.exit_code == 1 and "Ed25519" in result.output
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    (tmp_path / "raw.hex").write_text(raw.hex())
    result = run_cli_opa(world, opa_url, "org", "add-key", "douane", str(tmp_path / "raw.hex"))
    assert result.exit_code == 0, result.output
    with world.rt.read() as s:
        assert len(s.scalars(select(OrganisationKey)).all()) == 2


def test_serve_watches_the_inbox_on_a_schedule(
    world: World, opa_url: str, key: Ed25519PrivateKey, drop: Path, tmp_path: Path
) -> None:
    from gateway.audit.log import AuditContext
    from gateway.services import inbox
    from gateway.services.background import gateway_jobs

    _register(world, opa_url, key, tmp_path)
    world.rt.settings = world.rt.settings.model_copy(update={"inbox_interval_s": 0.05})
    _drop(drop, key, "fresh.csv", _planted(4), meta=planted_meta("fresh"))
    assert inbox.scan(world.rt, AuditContext(actor="t"), drop) == []  # still settling
    with gateway_jobs(world.rt, AuditContext(actor="serve"), drop) as scheduler:
        _drop(drop, key, "late.csv", _planted(3))  # arrives while serving
        deadline = time.monotonic() + 20
        pending = [drop / "fresh.csv", drop / "late.csv"]
        while time.monotonic() < deadline and any(p.exists() for p in pending):
            time.sleep(0.05)
    assert not scheduler._thread.is_alive()
    assert {"retention", "inbox"} == set(scheduler.runs)
    with world.rt.read() as s:
        found = {d.name: d.latest.source for d in s.scalars(select(Dataset))}
    assert found == {"fresh": "inbox", "dropped": "inbox"}
    assert list((drop / "rejected").iterdir()) == []
