"""Shared fixtures: a real OPA server and a real PostgreSQL cluster per session, an isolated
data dir per test, and a gateway app wired to them."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from gateway.api.app import create_app
from gateway.core.config import Settings
from gateway.core.db import get_engine
from gateway.policy.engine import PolicyEngine
from gateway.policy.opa_server import OpaProcess, find_opa
from gateway.services import setup
from gateway.services.runtime import Runtime
from tests.factories import World, make_world
from tests.pg import throwaway_cluster


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's SLUIS_* settings."""
    for key in list(os.environ):
        if key.startswith("SLUIS_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def opa_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared OPA server's log, decision log included."""
    return tmp_path_factory.mktemp("opa") / "opa.log"


@pytest.fixture(scope="session")
def opa_url(opa_log: Path) -> Iterator[str]:
    with OpaProcess(find_opa(), opa_log) as url:
        yield url


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    with throwaway_cluster() as url:
        yield url


def fresh_pg_database(server_url: str) -> str:
    name = f"sluis_{uuid.uuid4().hex[:12]}"
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """Integration tests run once on SQLite (the default) and once on PostgreSQL."""
    if request.param == "sqlite":
        return None
    return fresh_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def rt(settings: Settings, opa_url: str) -> Iterator[Runtime]:
    setup.init(settings)
    engine = PolicyEngine(opa_url)
    runtime = Runtime(settings, policy=engine)
    engine.load(runtime.policy_store.current)
    yield runtime
    engine.close()
    if settings.database_url:
        # Each test has its own database; close its pool so connections do not pile up.
        get_engine(settings.database_url).dispose()


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def world(rt: Runtime, client: TestClient) -> World:
    """Partner organisations, a lab, and a user of every role (see tests/factories.py)."""
    return make_world(rt, client)


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave with pytest's own status once every result is reported.

    Native libraries used in-process (HiGHS's worker pool, the JVM behind
    Spark, DuckDB's threads) are torn down by the interpreter after the last
    test; on rare runs one of them crashes there, after all results are in,
    which would turn a green run red for nothing the tests can see. Every
    fixture (OPA child, PostgreSQL cluster, Spark session) has been finalised
    by now.
    """
    if _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[0])
