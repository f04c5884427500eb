"""The ``sluis`` command line: scripts read stdout, people read stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from gateway.audit.log import verify_session
from gateway.cli import data_cmds
from gateway.cli.common import DataDir, err
from gateway.cli.common import ctx as _ctx
from gateway.cli.common import fail as _fail
from gateway.cli.common import runtime as _runtime
from gateway.cli.query_cmd import query
from gateway.core.config import settings_for
from gateway.core.errors import SluisError
from gateway.core.logging import configure
from gateway.policy.opa_server import find_opa
from gateway.policy.store import run_checks, shipped_policies
from gateway.services import setup, users
from gateway.services.background import gateway_jobs

app = typer.Typer(help="Sluis: a privacy-aware data-sharing gateway.", no_args_is_help=True)
org_app = typer.Typer(help="Partner organisations.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit log.", no_args_is_help=True)
policy_app = typer.Typer(help="The policy set.", no_args_is_help=True)
app.add_typer(org_app, name="org")
app.add_typer(user_app, name="user")
app.add_typer(audit_app, name="audit")
app.add_typer(policy_app, name="policy")
app.command()(query)
app.add_typer(data_cmds.keys_app, name="keys")
app.add_typer(data_cmds.retention_app, name="retention")
app.add_typer(data_cmds.inbox_app, name="inbox")
org_app.command("add-key")(data_cmds.org_add_key)
app.command()(data_cmds.pull)
app.add_typer(data_cmds.dataset_app, name="dataset")


@app.command()
def init(data_dir: DataDir = None) -> None:
    """Create the database, keys and folders (idempotent)."""
    settings = settings_for(data_dir)
    try:
        created = setup.init(settings)
    except SluisError as exc:
        raise _fail(exc) from exc
    for path in created:
        err.print(f"created {path}")
    typer.echo(str(settings.data_dir.resolve()))


Host = Annotated[str, typer.Option(help="Address to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def _serve(
    data_dir: Path | None, host: str, port: int, *, with_demo: bool, inbox: Path | None = None
) -> None:
    import uvicorn

    from gateway.api.app import create_app
    from gateway.demo.seed import seed

    settings = settings_for(data_dir)
    configure(json=settings.log_json)
    try:
        with setup.running(settings) as rt:
            if with_demo:
                tokens, project_id = seed(rt, _ctx())
                err.print("[bold]Demo users[/bold] (username, role, token):")
                for username, (role, token) in tokens.items():
                    typer.echo(f"{username}\t{role}\t{token}")
                err.print(f"Active lab project: {project_id}; README.md walks through the demo")
            revision = rt.policy_store.revision[:12]
            err.print(f"Sluis on http://{host}:{port}  (policy revision {revision}); Ctrl-C stops")
            with gateway_jobs(rt, _ctx(), inbox):  # retention and the drop folder
                uvicorn.run(create_app(rt), host=host, port=port, log_level="info")
    except SluisError as exc:
        raise _fail(exc) from exc


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    inbox: data_cmds.InboxDir = None,
) -> None:
    """Run the gateway (with its own OPA child unless SLUIS_OPA_URL is set)."""
    _serve(data_dir, host, port, with_demo=False, inbox=inbox)


@app.command()
def demo(data_dir: DataDir = None, host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Init + synthetic partners, users, datasets and an active lab project + serve."""
    _serve(data_dir, host, port, with_demo=True)


@org_app.command("add")
def org_add(name: str, data_dir: DataDir = None) -> None:
    """Add a partner organisation."""
    try:
        org = users.add_org(_runtime(data_dir), _ctx(), name)
    except SluisError as exc:
        raise _fail(exc) from exc
    typer.echo(org.id)


@user_app.command("add")
def user_add(
    username: str,
    org: Annotated[str, typer.Option(help="Organisation name.")],
    role: Annotated[str, typer.Option(help="steward, analyst, privacy_officer or admin.")],
    data_dir: DataDir = None,
) -> None:
    """Add a user; the new API token is the last line of stdout."""
    try:
        token = users.add_user(_runtime(data_dir), _ctx(), username, org, role)
    except SluisError as exc:
        raise _fail(exc) from exc
    err.print(f"user {username} ({role}, {org}) added; keep this token, it is shown once:")
    typer.echo(token)


@user_app.command("token")
def user_token(username: str, data_dir: DataDir = None) -> None:
    """Issue a further API token for a user (last line of stdout)."""
    try:
        typer.echo(users.issue_token(_runtime(data_dir), _ctx(), username))
    except SluisError as exc:
        raise _fail(exc) from exc


@audit_app.command("verify")
def audit_verify(data_dir: DataDir = None) -> None:
    """Check the audit hash chain: exit 0 and `ok N entries`, else exit 1 naming the bad seq."""
    rt = _runtime(data_dir)
    with rt.read() as s:
        report = verify_session(s)
    if report.ok:
        typer.echo(f"ok {report.entries} entries")
        return
    typer.echo(f"bad entry seq {report.first_bad_seq}: {report.problem}")
    raise typer.Exit(code=1)


@policy_app.command("test")
def policy_test(
    directory: Annotated[
        Path | None, typer.Argument(help="Policy folder (default: the shipped policies/).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Run `opa check --strict` and `opa test` on policies/."""
    settings = settings_for(data_dir)
    try:
        outcome = run_checks(find_opa(settings.opa_bin), directory or shipped_policies())
    except SluisError as exc:
        raise _fail(exc) from exc
    typer.echo(outcome.output)
    if not outcome.ok:
        raise typer.Exit(code=1)


PolicyDir = Annotated[Path, typer.Argument(help="A proposed policy folder (a copy of policies/).")]


@policy_app.command("dry-run")
def policy_dry_run(
    directory: PolicyDir,
    last: Annotated[int, typer.Option(help="How many recent decisions to replay.")] = 100,
    data_dir: DataDir = None,
) -> None:
    """Check DIR and replay recent decisions against it; prints a JSON report. Changes nothing."""
    from gateway.services.dry_run import MAX_LAST, dry_run

    if not 1 <= last <= MAX_LAST:
        err.print(f"[red]error:[/red] --last must be between 1 and {MAX_LAST}")
        raise typer.Exit(code=2)
    try:
        report = dry_run(_runtime(data_dir), source=directory.resolve(), last=last)
    except SluisError as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(report, indent=2))
    err.print(
        f"replayed {report['replayed']}: {report.get('flipped', 0)} would flip, "
        f"{report.get('obligations_changed', 0)} would change obligations"
    )
    if not report["checks"]["ok"] or "error" in report:
        raise typer.Exit(code=1)


@policy_app.command("activate")
def policy_activate(directory: PolicyDir, data_dir: DataDir = None) -> None:
    """Check DIR (compiler, its tests, the guard rails) and make it the set in force."""
    from gateway.services import policies

    try:
        result = policies.activate(
            _runtime(data_dir), _ctx(), decision_id=None, source=directory.resolve()
        )
    except SluisError as exc:
        if isinstance(exc.detail, dict) and "output" in exc.detail:
            err.print(str(exc.detail["output"]))
            raise _fail(SluisError(exc.detail["message"])) from exc
        raise _fail(exc) from exc
    err.print(f"policy revision {result['revision']} is in force; a running gateway loads it")
    typer.echo(result["revision"])


def main() -> None:  # pragma: no cover
    sys.exit(app())
