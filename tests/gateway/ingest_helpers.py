"""Helpers shared by the ingest tests: CSV bytes, stored state, planted-value search."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import func, inspect, select, text

from gateway.core.db import get_engine
from gateway.models import Dataset, DatasetVersion
from tests.factories import World


def csv_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf)
    return buf.getvalue()


def stored_state(world: World) -> tuple[int, int, list[Path]]:
    """Datasets, versions and data files: what a failed ingest must not change."""
    with world.rt.read() as s:
        datasets = s.scalar(select(func.count()).select_from(Dataset)) or 0
        versions = s.scalar(select(func.count()).select_from(DatasetVersion)) or 0
    files = sorted(p for p in world.rt.settings.datasets_dir.rglob("*") if p.is_file())
    return datasets, versions, files


def db_dump(url: str) -> bytes:
    out = []
    with get_engine(url).connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)))
    return "\n".join(out).encode()


def assert_never_stored(world: World, needles: list[str], *extra_texts: str) -> None:
    """No planted value in any byte of the data dir, the database or the given texts."""
    dump = db_dump(world.rt.db_url)
    files = [p for p in world.rt.settings.data_dir.rglob("*") if p.is_file()]
    assert files
    for needle in needles:
        assert needle.encode() not in dump, needle
        for path in files:
            assert needle.encode() not in path.read_bytes(), (needle, path)
        for body in extra_texts:
            assert needle not in body


def run_cli_opa(world: World, opa_url: str, *args: str) -> Any:
    """`sluis ARGS --data-dir` in-process, with the test OPA (for commands that decide)."""
    from typer.testing import CliRunner

    from gateway.cli.main import app as cli

    settings = world.rt.settings
    env = {"SLUIS_OPA_URL": opa_url}
    if settings.database_url:
        env["SLUIS_DATABASE_URL"] = settings.database_url
    return CliRunner().invoke(cli, [*args, "--data-dir", str(settings.data_dir)], env=env)


PLANTED_BSN = "111222333"  # passes the eleven-test
PLANTED_NAME = "Zwaantje Planteveld"
PLANTED = [PLANTED_BSN, PLANTED_NAME, "Planteveld"]


def planted_table(seed: int, people: int = 40) -> pa.Table:
    """Incidents with one planted BSN and one planted name (both declared identifiers)."""
    import random

    from tests.factories import incidents_table

    table = incidents_table(random.Random(seed), people=people)
    bsns = table.column("bsn").to_pylist()
    bsns[0] = PLANTED_BSN
    names = ["Jan Jansen"] * table.num_rows
    names[0] = PLANTED_NAME
    table = table.set_column(0, "bsn", pa.array(bsns))
    return table.append_column("contact_name", pa.array(names))


def planted_meta(name: str) -> dict[str, Any]:
    """Upload meta for :func:`planted_table`."""
    from tests.factories import incidents_meta

    meta = incidents_meta(name)
    meta["columns"]["contact_name"] = "identifier"
    return meta
