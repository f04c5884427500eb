"""The decision channel: kept-alive connections survive OPA closing them, and fail closed."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from gateway.policy.transport import DecisionChannel, TransportError


def _serve(replies: list[bytes]) -> Iterator[tuple[str, list[int]]]:
    """Answer each request with the next reply, then close the connection silently.

    Closing without a ``Connection: close`` header is what an idle-timeout on
    OPA's side looks like to a client that kept the connection open.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.1)
    connections: list[int] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set() and replies:
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            connections.append(1)
            with conn:
                conn.recv(65536)
                conn.sendall(replies.pop(0))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", connections
    stop.set()
    thread.join()
    server.close()


def _http(status: int, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.fixture
def two_answers() -> Iterator[tuple[str, list[int]]]:
    answer = _http(200, json.dumps({"result": {"allow": True}}).encode())
    yield from _serve([answer, answer])


def test_a_connection_closed_by_opa_is_reopened(two_answers: tuple[str, list[int]]) -> None:
    url, connections = two_answers
    channel = DecisionChannel(url, "/v1/data/x", timeout_s=2.0)
    assert channel.post({"a": 1}) == {"result": {"allow": True}}
    # The server closed the first connection: the second call must retry on a new one.
    assert channel.post({"a": 1}) == {"result": {"allow": True}}
    assert len(connections) == 2
    channel.close()


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (_http(500, b"{}"), "HTTP 500"),
        (_http(200, b"not json"), "not JSON"),
        (_http(200, b"[1, 2]"), "not a JSON object"),
    ],
)
def test_bad_answers_are_transport_errors(reply: bytes, message: str) -> None:
    for url, _ in _serve([reply]):
        channel = DecisionChannel(url, "/v1/data/x", timeout_s=2.0)
        with pytest.raises(TransportError, match=message):
            channel.post({})
        channel.close()


def test_nobody_listening_is_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = DecisionChannel(f"http://127.0.0.1:{port}", "/v1/data/x", timeout_s=0.5)
    with pytest.raises(TransportError):
        channel.post({})
    channel.close()


def test_only_plain_http_is_accepted() -> None:
    with pytest.raises(ValueError, match="plain HTTP"):
        DecisionChannel("https://opa.example:8181", "/v1/data/x", timeout_s=1.0)
