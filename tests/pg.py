"""A throwaway PostgreSQL cluster for tests, started with the Debian server binaries.

PostgreSQL refuses to run as root, so as root the cluster runs as the
``postgres`` system user (created by the Debian package) via ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def pg_bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a superuser on a fresh cluster; stop and delete it afterwards."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found; run `make install`")
    base = Path(tempfile.mkdtemp(prefix="sluis-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    base.chmod(0o700)
    data, port = base / "data", _free_port()
    run = lambda *cmd: subprocess.run([*prefix, *map(str, cmd)], check=True, capture_output=True)  # noqa: E731
    try:
        run(
            bindir / "initdb",
            "-D",
            data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
        )
        opts = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        )
        run(bindir / "pg_ctl", "-D", data, "-o", opts, "-l", base / "log", "-w", "start")
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(base, ignore_errors=True)
