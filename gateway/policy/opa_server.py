"""An OPA server run as a child process on a free loopback port, stopped with the gateway."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from gateway.core.errors import DependencyDown

START_TIMEOUT_S = 15.0
_PR_SET_PDEATHSIG = 1


def find_opa(configured: str | None = None) -> str:
    """The OPA binary: ``SLUIS_OPA_BIN``, the venv's ``bin/opa``, else ``opa`` on PATH."""
    candidates = [configured, str(Path(sys.executable).parent / "opa"), shutil.which("opa")]
    for c in candidates:
        if c and Path(c).is_file():
            return c
    raise DependencyDown("no OPA binary found; run `make install` or set SLUIS_OPA_BIN")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    # Linux: OPA gets SIGTERM if the gateway dies without cleaning up.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# OPA's heap is small and churns with every decision; Go's default GC target
# (100) collects so often that pauses dominate the p99 decision latency. 400
# trades a few MB of memory for a p99 about half as long (see bench/).
OPA_GOGC = "400"


def _opa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOGC", OPA_GOGC)
    return env


class OpaProcess:
    """Start with ``with OpaProcess(...) as url:``; the server is gone after the block."""

    def __init__(self, binary: str, log_path: Path) -> None:
        self.binary = binary
        self.log_path = log_path
        self.url: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):  # a port taken between probe and bind: try another
            port = _free_port()
            with self.log_path.open("ab") as log:
                self._proc = subprocess.Popen(
                    [
                        self.binary,
                        "run",
                        "--server",
                        "--addr",
                        f"127.0.0.1:{port}",
                        "--log-level",
                        "error",
                        "--set",
                        "decision_logs.console=true",
                    ],
                    stdout=log,
                    stderr=log,
                    stdin=subprocess.DEVNULL,
                    env=_opa_env(),
                    preexec_fn=_die_with_parent,
                )
            url = f"http://127.0.0.1:{port}"
            if self._wait_healthy(url):
                self.url = url
                return url
            self.stop()
        raise DependencyDown("the OPA server did not start; see logs/opa.log in the data dir")

    def _wait_healthy(self, url: str) -> bool:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=0.5).status_code == 200:
                    return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
