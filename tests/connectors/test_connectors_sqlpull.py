import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text

from connectors.pipeline import ingest_batches, read_dataset
from connectors.schema import DatasetMeta
from connectors.sqlpull import SourceError, pull_batches

MakeMeta = Callable[..., DatasetMeta]


def fill(url: str, table: str = "registraties", rows: int = 250) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE TABLE "{table}" (bsn TEXT, gemeente TEXT, bedrag FLOAT)'))
        conn.execute(
            text(f'INSERT INTO "{table}" VALUES (:b, :g, :a)'),
            [{"b": "111222333", "g": "Delft", "a": float(i)} for i in range(rows)],
        )
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    fill(url)
    return url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    name = f"pull_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = pg_server.rsplit("/", 1)[0] + f"/{name}"
    fill(url)
    fill(url, table="Odd Name; DROP")
    return url


def pulled(url: str, **kw: object) -> pa.Table:
    return pa.Table.from_batches(list(pull_batches(url, **kw)))  # type: ignore[arg-type]


def test_sqlite_table_in_batches(sqlite_url: str) -> None:
    batches = list(pull_batches(sqlite_url, table="registraties", batch_rows=100))
    assert [b.num_rows for b in batches] == [100, 100, 50]
    assert batches[0].schema.names == ["bsn", "gemeente", "bedrag"]


def test_sqlite_is_read_only(sqlite_url: str) -> None:
    with pytest.raises(SourceError):
        pulled(sqlite_url, query="DELETE FROM registraties RETURNING bsn")
    assert pulled(sqlite_url, table="registraties").num_rows == 250


@pytest.mark.parametrize(
    "kw",
    [
        {"table": "nope"},
        {"table": 'registraties"; DROP TABLE x; --'},
        {},
        {"table": "registraties", "query": "SELECT 1"},
    ],
)
def test_bad_requests(sqlite_url: str, kw: dict[str, str]) -> None:
    with pytest.raises(SourceError):
        pulled(sqlite_url, **kw)


@pytest.mark.postgres
def test_postgres_pull(pg_url: str) -> None:
    table = pulled(pg_url, table="registraties", batch_rows=64)
    assert table.num_rows == 250
    odd = pulled(pg_url, table="Odd Name; DROP")  # quoted, not pasted
    assert odd.num_rows == 250
    query = pulled(pg_url, query="SELECT gemeente, count(*) AS n FROM registraties GROUP BY 1")
    assert query.to_pylist() == [{"gemeente": "Delft", "n": 250}]


@pytest.mark.postgres
def test_postgres_transaction_is_read_only(pg_url: str) -> None:
    with pytest.raises(SourceError) as caught:
        pulled(pg_url, query="DELETE FROM registraties RETURNING bsn")
    assert "111222333" not in str(caught.value)
    with pytest.raises(SourceError):
        pulled(pg_url, query="CREATE TABLE x AS SELECT 1 AS a")
    assert pulled(pg_url, table="registraties").num_rows == 250


@pytest.mark.postgres
def test_postgres_pull_into_the_pipeline(pg_url: str, tmp_path: Path, make_meta: MakeMeta) -> None:
    batches = pull_batches(pg_url, table="registraties", batch_rows=100)
    first = next(batches)

    def chained() -> object:
        yield first
        yield from batches

    result = ingest_batches(
        first.schema.names,
        chained(),  # type: ignore[arg-type]
        make_meta(),
        master_key=b"m" * 32,
        out_path=tmp_path / "pulled.enc",
        aad=b"x",
    )
    assert result.rows == 250
    stored = read_dataset(result.path, result.wrapped_key, b"m" * 32, aad=b"x")
    assert b"111222333" not in (tmp_path / "pulled.enc").read_bytes()
    assert stored.column("bedrag").to_pylist()[:2] == [0.0, 1.0]
