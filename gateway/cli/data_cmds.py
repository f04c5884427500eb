"""``sluis`` commands for data coming in and going away: keys, retention, drop folder, SQL pull."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from gateway.cli.common import DataDir, GatewayUrl, Token, err
from gateway.cli.common import ctx as _ctx
from gateway.cli.common import fail as _fail
from gateway.cli.common import runtime as _runtime
from gateway.core.config import settings_for
from gateway.core.errors import SluisError
from gateway.services import setup

keys_app = typer.Typer(help="The master key.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention and crypto-erasure.", no_args_is_help=True)
inbox_app = typer.Typer(help="The drop folder for signed partner files.", no_args_is_help=True)
dataset_app = typer.Typer(help="Datasets.", no_args_is_help=True)


@keys_app.command("rotate")
def keys_rotate(
    new_key_file: Annotated[
        Path, typer.Option("--new-key-file", help="The new 32-byte master key (raw, hex, base64).")
    ],
    data_dir: DataDir = None,
) -> None:
    """Re-wrap every data key under a new master key, atomically; data is not re-encrypted."""
    from gateway.services import keys

    try:
        report = keys.rotate(_runtime(data_dir), _ctx(), new_key_file)
    except SluisError as exc:
        raise _fail(exc) from exc
    err.print(
        f"re-wrapped {report['data_keys']} data key(s) under key {report['new_key_id']}; "
        "the new key file is in place: keep a backup and destroy the file you passed"
    )
    typer.echo(json.dumps(report))


@retention_app.command("run")
def retention_run(data_dir: DataDir = None) -> None:
    """Crypto-erase every dataset whose retention date has passed; prints what was erased."""
    from gateway.services import retention

    try:
        erased = retention.run(_runtime(data_dir), _ctx())
    except SluisError as exc:
        raise _fail(exc) from exc
    err.print(f"erased {len(erased)} dataset(s)")
    typer.echo(json.dumps(erased))


def org_add_key(
    org: Annotated[str, typer.Argument(help="Organisation name.")],
    key_file: Annotated[Path, typer.Argument(help="Ed25519 public key: PEM or 32 raw bytes.")],
    data_dir: DataDir = None,
) -> None:
    """Register the Ed25519 key that signs an organisation's drop-folder manifests."""
    from gateway.services import inbox

    try:
        fingerprint = inbox.add_org_key(_runtime(data_dir), _ctx(), org, key_file.read_bytes())
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {key_file.name}")
        raise typer.Exit(code=1) from exc
    except SluisError as exc:
        raise _fail(exc) from exc
    err.print(f"key added for {org}; fingerprint (sha256):")
    typer.echo(fingerprint)


@inbox_app.command("watch")
def inbox_watch(
    directory: Annotated[Path, typer.Argument(help="The drop folder.")],
    once: Annotated[bool, typer.Option("--once", help="Scan once and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between scans.")] = 5.0,
    settle: Annotated[
        float, typer.Option(help="Leave drops changed in the last N seconds for the next scan.")
    ] = 2.0,
    data_dir: DataDir = None,
) -> None:
    """Ingest files whose manifest their organisation signed; reject the rest (with a reason)."""
    import time

    from gateway.services import inbox

    settings = settings_for(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        with setup.running(settings) as rt:
            while True:
                for outcome in inbox.scan(rt, _ctx(), directory, settle_s=settle):
                    typer.echo(json.dumps(outcome.__dict__))
                if once:
                    return
                time.sleep(interval)
    except SluisError as exc:
        raise _fail(exc) from exc
    except KeyboardInterrupt:
        err.print("stopped")


InboxDir = Annotated[
    Path | None,
    typer.Option("--inbox", help="A drop folder to watch while serving ($SLUIS_INBOX_DIR)."),
]


def pull(
    org: Annotated[str, typer.Option("--org", help="The organisation the data belongs to.")],
    url: Annotated[str, typer.Option("--url", help="SQLAlchemy URL of the source database.")],
    meta: Annotated[Path, typer.Option("--meta", help="The dataset's upload metadata (JSON).")],
    table: Annotated[str | None, typer.Option("--table", help="Table to pull.")] = None,
    query: Annotated[str | None, typer.Option("--query", help="SELECT to pull.")] = None,
    chunk_rows: Annotated[int, typer.Option(help="Rows per chunk.")] = 50_000,
    data_dir: DataDir = None,
) -> None:
    """Pull a table or query from a partner database (read-only) as a new dataset version."""
    from gateway.services.pull import pull as run_pull

    try:
        meta_raw = meta.read_text("utf-8")
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {meta.name}")
        raise typer.Exit(code=1) from exc
    try:
        with setup.running(settings_for(data_dir)) as rt:
            body = run_pull(
                rt, _ctx(), org, url, meta_raw, table=table, query=query, chunk_rows=chunk_rows
            )
    except SluisError as exc:
        raise _fail(exc) from exc
    err.print(f"dataset {body['name']} version {body['version']}: {body['rows']} rows")
    typer.echo(json.dumps(body))


def _multipart(
    path: Path, meta: str, boundary: str, advance: Callable[[int], object]
) -> tuple[int, Iterator[bytes]]:
    """A streamed multipart body: its length, and the chunks (the file read 1 MiB at a time)."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{meta}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size

    def chunks() -> Iterator[bytes]:
        yield head
        with path.open("rb") as source:
            while chunk := source.read(1 << 20):
                advance(len(chunk))
                yield chunk
        yield tail

    return len(head) + size + len(tail), chunks()


def upload_file(client: httpx.Client, path: Path, meta: str, *, progress: bool = True) -> Any:
    """POST a file to /api/v1/datasets streamed from disk, with a progress bar on stderr."""
    boundary = secrets.token_hex(16)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        disable=not progress,
    ) as bar:
        task = bar.add_task(f"uploading {path.name}", total=path.stat().st_size)
        length, body = _multipart(path, meta, boundary, lambda n: bar.advance(task, n))
        return client.post(
            "/api/v1/datasets",
            content=body,
            headers={
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(length),
            },
        )


@dataset_app.command("upload")
def dataset_upload(
    file: Annotated[Path, typer.Argument(help="CSV, Parquet, XLSX or JSON Lines file.")],
    meta: Annotated[Path, typer.Option("--meta", help="The upload metadata (JSON).")],
    url: GatewayUrl = "http://127.0.0.1:8000",
    token: Token = "",
) -> None:
    """Upload a dataset to a running gateway (streamed, with a progress bar); prints the answer."""
    if not token:
        err.print("[red]error:[/red] give --token or set SLUIS_TOKEN")
        raise typer.Exit(code=2)
    try:
        meta_text = meta.read_text("utf-8")
        file.stat()
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {exc.filename}")
        raise typer.Exit(code=2) from exc
    headers = {"Authorization": f"Bearer {token}"}
    try:
        # No read timeout: a large file takes the gateway a while to check and store.
        timeout = httpx.Timeout(10.0, read=None, write=None)
        with httpx.Client(base_url=url, headers=headers, timeout=timeout) as client:
            response = upload_file(client, file, meta_text)
    except httpx.HTTPError as exc:
        err.print(f"[red]error:[/red] the gateway at {url} does not answer ({type(exc).__name__})")
        raise typer.Exit(code=1) from exc
    if response.status_code != 201:
        err.print(f"[red]refused ({response.status_code}):[/red] {response.text}")
        raise typer.Exit(code=1)
    body = response.json()
    err.print(f"dataset {body['name']} version {body['version']}: {body['rows']} rows")
    typer.echo(response.text)
