"""Master-key providers and `sluis keys rotate`: re-wrap without re-encrypting, atomically."""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.config import Settings
from gateway.core.errors import BadInput, DependencyDown
from gateway.core.keys import EnvKeyProvider, FileKeyProvider, key_id, provider_for
from gateway.models import AuditEntry, DatasetVersion, KeyMaterial
from gateway.services import keys, setup, tables
from tests.factories import (
    World,
    approve_all,
    create_project,
    incidents_meta,
    incidents_table,
    parquet_bytes,
    run_cli,
    upload,
)

SPEC = {"group_by": ["region"], "aggregates": [{"fn": "count"}, {"fn": "count_rows"}]}


def _files(world: World) -> dict[Path, str]:
    root = world.rt.settings.datasets_dir
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


def test_rotation_rewraps_keys_and_queries_still_work(world: World, tmp_path: Path) -> None:
    r = upload(
        world, "steward-politie", parquet_bytes(incidents_table(random.Random(1))), incidents_meta()
    )
    dataset_id = r.json()["id"]
    project = create_project(world, [dataset_id]).json()
    approve_all(world, project["id"])
    url = f"/api/v1/projects/{project['id']}/queries"
    before = world.client.post(url, headers=world.h("anna"), json={"dataset": dataset_id, **SPEC})
    assert before.status_code == 200, before.text
    old_key = world.rt.master_key
    files_before = _files(world)
    with world.rt.read() as s:
        wrapped_before = s.scalars(select(DatasetVersion.wrapped_key)).all()

    new_key = os.urandom(32)
    key_file = tmp_path / "new.key"
    key_file.write_text(new_key.hex())
    result = run_cli(world, "keys", "rotate", "--new-key-file", str(key_file))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["data_keys"] == 1 and report["new_key_id"] == key_id(new_key)

    assert world.rt.settings.key_file.read_bytes() == new_key
    assert not Path(str(world.rt.settings.key_file) + ".next").exists()
    assert _files(world) == files_before  # data files are not re-encrypted
    with world.rt.read() as s:
        versions = s.scalars(select(DatasetVersion)).all()
        assert [v.key_id for v in versions] == [key_id(new_key)]
        assert [v.wrapped_key for v in versions] != wrapped_before
        assert {m.key_id for m in s.scalars(select(KeyMaterial))} == {key_id(new_key)}
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "keys.rotate")).one()
        assert entry.details["old_key_id"] == key_id(old_key)

    # The running gateway reads the rotated key (its decrypted-table cache emptied first).
    with world.rt.read() as s:
        version_id = s.scalars(select(DatasetVersion.id)).one()
    tables.forget(version_id)
    after = world.client.post(url, headers=world.h("anna"), json={"dataset": dataset_id, **SPEC})
    assert after.status_code == 200, after.text
    assert after.json()["rows"] == before.json()["rows"]
    assert world.rt.master_key == new_key
    assert run_cli(world, "audit", "verify").exit_code == 0

    # In the moment between the commit and the key file's replacement, the pending key serves.
    key_file = world.rt.settings.key_file
    key_file.write_bytes(old_key)
    Path(str(key_file) + ".next").write_bytes(new_key)
    tables.forget(version_id)
    again = world.client.post(url, headers=world.h("anna"), json={"dataset": dataset_id, **SPEC})
    assert again.status_code == 200, again.text
    setup.init(world.rt.settings)  # and the next start finishes that rotation
    assert key_file.read_bytes() == new_key


def test_rotation_refuses_bad_or_same_keys(world: World, tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_bytes(b"too short")
    result = run_cli(world, "keys", "rotate", "--new-key-file", str(bad))
    assert result.exit_code == 1 and "32-byte" in result.output
    same = tmp_path / "same.key"
    same.write_bytes(world.rt.master_key)
    result = run_cli(world, "keys", "rotate", "--new-key-file", str(same))
    assert result.exit_code == 1 and "already in use" in result.output
    assert not Path(str(world.rt.settings.key_file) + ".next").exists()


def test_an_interrupted_rotation_is_undone_at_init(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d")
    setup.init(settings)
    original = settings.key_file.read_bytes()
    pending = Path(str(settings.key_file) + ".next")
    pending.write_bytes(os.urandom(32))  # written, but the transaction never committed
    setup.init(settings)
    assert not pending.exists() and settings.key_file.read_bytes() == original


def test_providers(tmp_path: Path) -> None:
    key = os.urandom(32)
    assert EnvKeyProvider(key.hex()).load() == key
    assert "hidden" in repr(EnvKeyProvider(key.hex()))
    with pytest.raises(DependencyDown):
        EnvKeyProvider("nope").load()
    settings = Settings(data_dir=tmp_path, master_key=key.hex())
    assert isinstance(provider_for(settings), EnvKeyProvider)
    assert isinstance(provider_for(Settings(data_dir=tmp_path)), FileKeyProvider)


def test_rotation_refuses_an_environment_key(tmp_path: Path) -> None:
    from gateway.audit.log import AuditContext
    from gateway.services.runtime import Runtime

    settings = Settings(data_dir=tmp_path, master_key=os.urandom(32).hex())
    with pytest.raises(BadInput, match="SLUIS_MASTER_KEY"):
        keys.rotate(Runtime(settings), AuditContext(actor="t"), tmp_path / "x")


def test_an_upload_that_straddles_a_rotation_is_rewrapped(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.audit.log import AuditContext
    from gateway.ingest import pipeline

    new_key = os.urandom(32)
    (tmp_path / "new.key").write_bytes(new_key)
    real_run = pipeline.run

    def run_then_rotate(*args: object, **kwargs: object) -> pipeline.Prepared:
        prepared = real_run(*args, **kwargs)  # type: ignore[arg-type]
        keys.rotate(world.rt, AuditContext(actor="other-process"), tmp_path / "new.key")
        return prepared

    monkeypatch.setattr(pipeline, "run", run_then_rotate)
    r = upload(
        world, "steward-politie", parquet_bytes(incidents_table(random.Random(2))), incidents_meta()
    )
    assert r.status_code == 201, r.text
    with world.rt.read() as s:
        version = s.scalars(select(DatasetVersion)).one()
    assert version.key_id == key_id(new_key)
    tables.forget(version.id)
    assert tables.load_table(world.rt, version).num_rows == r.json()["rows"]
