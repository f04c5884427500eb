"""A SIGKILL in the middle of an ingest leaves no visible partial dataset; init sweeps the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sqlalchemy import func, select

from gateway.ingest import workspace
from gateway.models import Dataset, DatasetVersion
from gateway.services import datasets
from tests.factories import World, incidents_meta
from tests.gateway.ingest_helpers import db_dump, run_cli_opa

PLANTED_BSN = "111222333"
ROOT = Path(__file__).resolve().parents[2]


def _big_csv(path: Path, rows: int) -> None:
    pool = [str(100000000 + i * 11) for i in range(2000)]  # any digits: declared identifier
    pool[0] = PLANTED_BSN
    idx = pa.array([i % len(pool) for i in range(rows)])
    table = pa.table(
        {
            "bsn": pa.array(pool).take(idx),
            "region": pa.array(["Utrecht", "Zeeland", "Drenthe"]).take(
                pa.array([i % 3 for i in range(rows)])
            ),
            "incident_type": pa.array(["fraude"] * rows),
            "damage_eur": pa.array([float(i % 5000) for i in range(rows)]),
            "incident_date": pa.array(["2024-03-01"] * rows),
        }
    )
    pacsv.write_csv(table, path)


def _wait_for(pattern: str, tmp_dir: Path, proc: subprocess.Popen[bytes]) -> Path:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = list(tmp_dir.glob(pattern))
        if found:
            return found[0]
        if proc.poll() is not None:
            raise AssertionError(f"the ingest ended before {pattern} appeared: {proc.returncode}")
        time.sleep(0.005)
    raise AssertionError(f"{pattern} never appeared")


@pytest.mark.parametrize(
    "stage",
    [
        pytest.param("ingest-*/spool-*", id="while-spooling"),
        pytest.param("ingest-*/.data.parquet.enc.tmp-*", id="while-encrypting"),
    ],
)
def test_sigkill_mid_ingest_leaves_nothing_visible(
    world: World, opa_url: str, tmp_path: Path, stage: str
) -> None:
    big = tmp_path / "big.csv"
    _big_csv(big, 1_500_000)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps(incidents_meta("big")))
    settings = world.rt.settings
    proc = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("crash_ingest.py")),
            str(settings.data_dir),
            settings.database_url or "",
            opa_url,
            str(big),
            str(meta),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(stage, settings.tmp_dir, proc)
        time.sleep(0.05)  # well inside that stage
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        _, errors = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL, errors.decode()[-2000:]

    # Nothing visible: no rows, no data file, no listing; the leftovers are unreadable.
    with world.rt.read() as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0
        assert s.scalar(select(func.count()).select_from(DatasetVersion)) == 0
    assert [p for p in settings.datasets_dir.rglob("*") if p.is_file()] == []
    assert world.client.get("/api/v1/datasets", headers=world.h("anna")).json() == []
    leftovers = list(settings.tmp_dir.glob("ingest-*"))
    assert leftovers, "the kill should have left a workspace behind"
    for path in settings.data_dir.rglob("*"):
        if path.is_file():
            assert PLANTED_BSN.encode() not in path.read_bytes(), path
    assert PLANTED_BSN.encode() not in db_dump(world.rt.db_url)

    # The next init sweeps them.
    result = run_cli_opa(world, opa_url, "init")
    assert result.exit_code == 0, result.output
    assert list(settings.tmp_dir.iterdir()) == []


def test_a_crash_between_rename_and_commit_is_undone(world: World) -> None:
    """The final file of an uncommitted ingest (its process gone) is removed by the sweep."""
    settings = world.rt.settings
    dead = settings.tmp_dir / "ingest-deadbeef"
    dead.mkdir()
    (dead / "lock").write_text("")  # nobody holds it: the process is gone
    final = settings.datasets_dir / "someid" / "v1.parquet.enc"
    final.parent.mkdir(parents=True)
    final.write_bytes(b"ciphertext")
    (dead / "final").write_text(str(final))
    removed = datasets.sweep(world.rt)
    assert final in removed and not final.exists() and not dead.exists()


def test_a_live_ingest_is_not_swept(world: World) -> None:
    settings = world.rt.settings
    with workspace.workspace(settings.tmp_dir) as space:
        assert datasets.sweep(world.rt) == []
        assert space.path.exists()
    assert not space.path.exists()
