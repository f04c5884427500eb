"""What every ``sluis`` subcommand shares: the data-dir option, stderr console, audit actor."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from gateway.audit.log import AuditContext
from gateway.core.config import settings_for
from gateway.core.errors import SluisError
from gateway.services import setup
from gateway.services.runtime import Runtime

err = Console(stderr=True)
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory (default: $SLUIS_DATA_DIR, else ./.sluis)."),
]

# Commands that talk to a running gateway as a user (query, dataset upload).
GatewayUrl = Annotated[str, typer.Option("--url", envvar="SLUIS_URL", help="Gateway base URL.")]
Token = Annotated[
    str, typer.Option("--token", envvar="SLUIS_TOKEN", help="API token (or $SLUIS_TOKEN).")
]


def ctx() -> AuditContext:
    """The audit actor of a command: the operating-system user who ran it."""
    return AuditContext(actor=f"cli:{getpass.getuser()}")


def fail(exc: SluisError) -> typer.Exit:
    """Print the error's explanation and give the exit to raise."""
    err.print(f"[red]error:[/red] {exc.detail}")
    return typer.Exit(code=1)


def runtime(data_dir: Path | None) -> Runtime:
    """An initialised runtime for the data dir (init is idempotent)."""
    settings = settings_for(data_dir)
    setup.init(settings)
    return Runtime(settings)
