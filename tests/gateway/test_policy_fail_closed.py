"""Fail closed: OPA killed, OPA too slow, OPA from another revision — every one denies."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core.errors import DependencyDown
from gateway.policy.engine import META_PATH, PolicyEngine
from gateway.policy.opa_server import OpaProcess, find_opa
from gateway.policy.store import shipped_policies
from tests.gateway.test_policy_matrix import query_input

ALLOWED = query_input("analyst", "active", "research", "wpg-art22")


def test_killed_opa_denies(tmp_path: Path) -> None:
    opa = OpaProcess(find_opa(), tmp_path / "opa.log")
    url = opa.start()
    engine = PolicyEngine(url)
    engine.load(shipped_policies())
    assert engine.decide_document(ALLOWED).allow
    assert opa._proc is not None
    opa._proc.kill()
    opa._proc.wait()
    with pytest.raises(DependencyDown):
        engine.decide_document(ALLOWED)
    opa.stop()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers: an OPA stuck past the client timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_slow_opa_denies(silent_server: str) -> None:
    engine = PolicyEngine(silent_server, timeout_s=0.3)
    engine.revision = "pretend-loaded"
    with pytest.raises(DependencyDown):
        engine.decide_document(ALLOWED)
    engine.close()


def test_answer_from_another_revision_denies(opa_url: str) -> None:
    engine = PolicyEngine(opa_url)
    engine.load(shipped_policies())
    assert engine.decide_document(ALLOWED).allow
    engine.client.update_or_create_data({"revision": "someone-elses"}, META_PATH)
    try:
        with pytest.raises(DependencyDown, match="another policy revision"):
            engine.decide_document(ALLOWED)
    finally:
        engine.load(shipped_policies())
        engine.close()


def test_no_policy_loaded_denies(opa_url: str) -> None:
    engine = PolicyEngine(opa_url)
    with pytest.raises(DependencyDown):
        engine.decide_document(ALLOWED)
    engine.close()
