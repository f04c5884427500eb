"""`sluis pull` from a real PostgreSQL: chunks, a read-only transaction, the same pipeline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from gateway.models import AuditEntry, Dataset
from tests.conftest import fresh_pg_database
from tests.factories import World
from tests.gateway.ingest_helpers import (
    PLANTED,
    assert_never_stored,
    planted_meta,
    planted_table,
    run_cli_opa,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def source(pg_server: str) -> str:
    """A partner database with an incidents table (one planted BSN)."""
    url = fresh_pg_database(pg_server)
    rows = planted_table(9, people=50).to_pylist()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE incidents (bsn text, region text, incident_type text,"
                " damage_eur double precision, incident_date date, contact_name text)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO incidents VALUES"
                " (:bsn, :region, :incident_type, :damage_eur, :incident_date, :contact_name)"
            ),
            rows,
        )
    engine.dispose()
    return url


def _meta(tmp_path: Path, name: str = "pulled") -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(planted_meta(name)))
    return str(path)


def _count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(text("SELECT count(*) FROM incidents")).scalar_one())
    engine.dispose()
    return n


def test_pull_a_table_and_a_query(
    world: World, opa_url: str, source: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    total = _count(source)
    result = run_cli_opa(
        world, opa_url, "pull", "--org", "politie", "--url", source,
        "--table", "incidents", "--meta", _meta(tmp_path), "--chunk-rows", "17",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["rows"] == total and body["version"] == 1
    assert {c["name"]: c["role"] for c in body["columns"]} == planted_meta("x")["columns"]

    query = "SELECT * FROM incidents WHERE region = 'Utrecht'"
    result = run_cli_opa(
        world, opa_url, "pull", "--org", "politie", "--url", source,
        "--query", query, "--meta", _meta(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    assert second["version"] == 2 and 0 < second["rows"] < total

    with world.rt.read() as s:
        dataset = s.scalars(select(Dataset)).one()
        assert [v.source for v in dataset.versions] == ["pull", "pull"]
        pulls = s.scalars(select(AuditEntry).where(AuditEntry.action == "dataset.pull")).all()
        assert [p.details["rows"] for p in pulls] == [total, second["rows"]]
        assert all("Utrecht" not in json.dumps(p.details) for p in pulls)
    assert_never_stored(world, PLANTED, result.output, caplog.text)


def test_pull_is_read_only_and_errors_say_what_to_fix(
    world: World, opa_url: str, source: str, tmp_path: Path
) -> None:
    before = _count(source)
    result = run_cli_opa(
        world, opa_url, "pull", "--org", "politie", "--url", source,
        "--query", "DELETE FROM incidents RETURNING *", "--meta", _meta(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 1 and "refused" in result.output
    assert _count(source) == before
    result = run_cli_opa(
        world, opa_url, "pull", "--org", "politie", "--url", source,
        "--table", "nope", "--meta", _meta(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 1 and "does not exist" in result.output
    result = run_cli_opa(
        world, opa_url, "pull", "--org", "politie", "--url", source,
        "--table", "incidents", "--query", "SELECT 1", "--meta", _meta(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 1 and "exactly one" in result.output
    with world.rt.read() as s:
        assert s.scalars(select(Dataset)).all() == []
    assert not any(p in result.output for p in PLANTED)
