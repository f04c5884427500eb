import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.ingest import generate_csv

CHILD = textwrap.dedent(
    """
    import datetime as dt, sys
    from pathlib import Path
    from connectors.pipeline import ingest_file, IngestOptions
    from connectors.schema import DatasetMeta
    meta = DatasetMeta.model_validate({
        "name": "crash", "legal_basis": "wpg-art22", "entity_columns": ["bsn"],
        "columns": {"bsn": "identifier", "categorie": "category", "bedrag": "measure",
                    "datum": "date"},
        "retention_until": dt.date.today() + dt.timedelta(days=9)})
    ingest_file(Path(sys.argv[1]), "in.csv", meta, master_key=b"m" * 32,
                out_path=Path(sys.argv[2]), aad=b"x",
                options=IngestOptions(row_group_rows=20_000, batch_rows=20_000))
    """
)


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_no_visible_dataset(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    generate_csv(source, 10)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    target = out_dir / "v1.parquet.enc"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(source), str(target)],
        cwd=Path(__file__).parents[2],
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
        p.stat().st_size > 100_000 for p in out_dir.iterdir()
    ):
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert not target.exists()
    leftovers = list(out_dir.iterdir())
    # Only a hidden temporary file may remain (the gateway's workspace sweep removes it).
    assert leftovers and all(p.name.startswith(".v1.parquet.enc.tmp-") for p in leftovers)
