"""The `sluis` command line, run as a user would: the installed console script."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SLUIS = str(Path(sys.executable).parent / "sluis")


def sluis(*args: str, data_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    proc = subprocess.run(
        [SLUIS, *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_init_is_idempotent_and_private(tmp_path: Path) -> None:
    d = tmp_path / "d"
    sluis("init", data_dir=d)
    key = (d / "master.key").read_bytes()
    sluis("init", data_dir=d)
    assert (d / "master.key").read_bytes() == key
    assert oct((d / "master.key").stat().st_mode & 0o777) == "0o600"
    assert oct(d.stat().st_mode & 0o777) == "0o700"
    assert (d / "policies" / "current").is_dir()


def test_org_and_user_add_print_ids_and_token(tmp_path: Path) -> None:
    d = tmp_path / "d"
    assert sluis("org", "add", "politie", data_dir=d).stdout.strip()
    out = sluis("user", "add", "stew", "--org", "politie", "--role", "steward", data_dir=d).stdout
    token = out.strip().splitlines()[-1]
    assert token.startswith("sluis_") and len(token) > 40
    dup = sluis("org", "add", "politie", data_dir=d, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    bad = sluis(
        "user", "add", "x", "--org", "politie", "--role", "superuser", data_dir=d, check=False
    )
    assert bad.returncode == 1 and "role" in bad.stderr
    missing = sluis(
        "user", "add", "y", "--org", "nowhere", "--role", "analyst", data_dir=d, check=False
    )
    assert missing.returncode == 1 and "nowhere" in missing.stderr
    verify = sluis("audit", "verify", data_dir=d)
    assert verify.stdout.strip() == "ok 3 entries"


def test_policy_test_runs_opa(tmp_path: Path) -> None:
    out = sluis("policy", "test", data_dir=tmp_path)
    assert "PASS" in out.stdout or "pass" in out.stdout.lower()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.rego").write_text("package x\n\nallow if {\n")
    failed = sluis("policy", "test", str(broken), data_dir=tmp_path, check=False)
    assert failed.returncode == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the gateway exited early"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("gateway did not become ready")


def _opa_children(pid: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(pid), "-f", "opa"], capture_output=True, text=True
    ).stdout
    return [int(p) for p in out.split()]


@pytest.mark.slow
def test_demo_serves_an_active_project_and_stops_its_opa(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUIS_")}
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen(
        [SLUIS, "demo", "--port", str(port), "--data-dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    children: list[int] = []
    try:
        _wait_ready(url, proc, timeout=120)
        children = _opa_children(proc.pid)
        assert len(children) == 1
        tokens = {}
        assert proc.stdout is not None
        for _ in range(8):
            name, _role, token = proc.stdout.readline().strip().split("\t")
            tokens[name] = token
        analyst = {"Authorization": f"Bearer {tokens['analyst-anna']}"}
        projects = httpx.get(f"{url}/api/v1/projects", headers=analyst).json()
        active = [p for p in projects if p["status"] == "active"]
        assert len(active) == 1
        datasets = {
            d["name"]: d for d in httpx.get(f"{url}/api/v1/datasets", headers=analyst).json()
        }
        assert set(datasets) == {"police_incidents", "customs_declarations", "tax_records"}
        spec = {
            "dataset": datasets["police_incidents"]["id"],
            "group_by": ["region", "incident_type"],
            "aggregates": [{"fn": "count"}, {"fn": "sum", "column": "damage_eur"}],
        }
        body = httpx.post(
            f"{url}/api/v1/projects/{active[0]['id']}/queries",
            headers=analyst,
            json=spec,
            timeout=30,
        ).json()
        assert body["status"] == "released" and body["suppressed"] > 0
        zeeland = [r for r in body["rows"] if r[0] == "Zeeland" and r[1] == "mensenhandel"]
        assert zeeland == [] or zeeland[0][2:] == [None, None]
        # The same spec through `sluis query` (the SDK under it), as CSV on stdout.
        (tmp_path / "spec.json").write_text(json.dumps(spec))
        cli = subprocess.run(
            [SLUIS, "query", active[0]["id"], str(tmp_path / "spec.json"), "-o", "csv"],
            capture_output=True,
            text=True,
            env={**env, "SLUIS_URL": url, "SLUIS_TOKEN": tokens["analyst-anna"]},
            timeout=60,
        )
        assert cli.returncode == 0, cli.stderr
        lines = cli.stdout.splitlines()
        assert lines[0] == "region,incident_type,count,sum_damage_eur"
        assert len(lines) == len(body["rows"]) + 1
        assert "released" in cli.stderr
        denied = subprocess.run(
            [SLUIS, "query", active[0]["id"], "-"],
            input=json.dumps({**spec, "group_by": ["bsn"]}),
            capture_output=True,
            text=True,
            env={**env, "SLUIS_URL": url, "SLUIS_TOKEN": tokens["analyst-anna"]},
            timeout=60,
        )
        assert denied.returncode == 1 and "refused (403)" in denied.stderr
        # The lab-style example in examples/ runs against the demo as shipped.
        example = subprocess.run(
            [str(Path(SLUIS).parent / "python"), str(REPO / "examples" / "cash_flow_risk.py")],
            capture_output=True,
            text=True,
            env={**env, "SLUIS_URL": url, "SLUIS_TOKEN": tokens["analyst-anna"]},
            timeout=120,
        )
        assert example.returncode == 0, example.stderr
        assert "policy revision" in example.stdout and "status" in example.stdout
        officer = {"Authorization": f"Bearer {tokens['privacy-pim']}"}
        assert httpx.get(f"{url}/api/v1/audit/verify", headers=officer).json()["ok"] is True
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.stdout is not None
        proc.stdout.close()
        log.close()
    assert "Traceback" not in (tmp_path / "demo.log").read_text()
    time.sleep(0.5)
    for child in children:
        assert (
            not Path(f"/proc/{child}").exists()
            or "zombie" in Path(f"/proc/{child}/status").read_text().lower()
        )
