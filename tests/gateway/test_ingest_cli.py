"""`sluis dataset upload`: the file streamed from disk as multipart, with a progress bar."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.data_cmds import upload_file
from gateway.cli.main import app
from tests.factories import World, incidents_meta, incidents_table
from tests.gateway.ingest_helpers import csv_bytes


def test_streamed_upload_makes_versions(world: World, tmp_path: Path) -> None:
    path = tmp_path / "incidents.csv"
    path.write_bytes(csv_bytes(incidents_table(random.Random(4), people=40)))
    world.client.headers.update(world.h("steward-politie"))
    meta = json.dumps(incidents_meta())
    first = upload_file(world.client, path, meta, progress=False)
    assert first.status_code == 201, first.text
    second = upload_file(world.client, path, meta, progress=False)
    assert second.json()["version"] == 2
    assert second.json()["id"] == first.json()["id"]
    bad = upload_file(world.client, path, json.dumps({"name": "x"}), progress=False)
    assert bad.status_code == 422


def test_upload_command_needs_a_token(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{}")
    (tmp_path / "d.csv").write_text("a\n1\n")
    result = CliRunner().invoke(
        app, ["dataset", "upload", str(tmp_path / "d.csv"), "--meta", str(tmp_path / "m.json")]
    )
    assert result.exit_code == 2 and "token" in result.output


def test_upload_command_reports_an_unreachable_gateway(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text("{}")
    (tmp_path / "d.csv").write_text("a\n1\n")
    args = ["dataset", "upload", str(tmp_path / "d.csv"), "--meta", str(tmp_path / "m.json")]
    result = CliRunner().invoke(app, [*args, "--url", "http://127.0.0.1:9", "--token", "t"])
    assert result.exit_code == 1 and "does not answer" in result.output
