"""``sluis query``: run a query spec through a running gateway, as an analyst would.

It goes through the API (with the caller's token), so the query is decided,
anonymised and audited exactly as any other; nothing here reads data directly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

from gateway.cli.common import GatewayUrl, Token
from sdk import SluisAPIError, SluisClient

err = Console(stderr=True)


def query(
    project: Annotated[str, typer.Argument(help="Project id.")],
    spec_file: Annotated[
        Path, typer.Argument(help="Query spec as JSON ('-' reads stdin).", allow_dash=True)
    ],
    url: GatewayUrl = "http://127.0.0.1:8000",
    token: Token = "",
    output: Annotated[
        str, typer.Option("--output", "-o", help="table, csv or json (stdout).")
    ] = "table",
) -> None:
    """Run a query spec in a project and print the released cells."""
    if output not in ("table", "csv", "json"):
        err.print("[red]error:[/red] --output must be table, csv or json")
        raise typer.Exit(code=2)
    try:
        text = sys.stdin.read() if str(spec_file) == "-" else spec_file.read_text("utf-8")
        spec = json.loads(text)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] the spec is not readable JSON: {exc}")
        raise typer.Exit(code=2) from exc
    if not token:
        err.print("[red]error:[/red] give --token or set SLUIS_TOKEN")
        raise typer.Exit(code=2)
    try:
        with SluisClient(url, token) as client:
            frame = client.query(project, spec)
    except SluisAPIError as exc:
        reasons = exc.reasons
        err.print(f"[red]refused ({exc.status}):[/red] {'; '.join(reasons) or exc.detail}")
        raise typer.Exit(code=1) from exc
    except httpx.HTTPError as exc:
        err.print(f"[red]error:[/red] the gateway at {url} does not answer ({type(exc).__name__})")
        raise typer.Exit(code=1) from exc
    attrs = frame.attrs
    err.print(
        f"query {attrs['query_id']}: {attrs['status']}, {attrs['suppressed']} value(s) "
        f"suppressed, policy revision {attrs['policy_revision'][:12]}"
    )
    if output == "json":
        rows = [
            [None if _missing(v) else v for v in r] for r in frame.astype(object).values.tolist()
        ]
        typer.echo(json.dumps({"columns": list(frame.columns), "rows": rows, **attrs}, default=str))
    elif output == "csv":
        typer.echo(frame.to_csv(index=False), nl=False)
    else:
        table = Table(*[str(c) for c in frame.columns])
        for row in frame.astype(object).itertuples(index=False):
            table.add_row(*["·" if _missing(v) else str(v) for v in row])
        Console().print(table)


def _missing(value: object) -> bool:
    try:
        return bool(value is None or value != value or str(value) == "<NA>")
    except TypeError:  # pd.NA refuses comparison
        return True
