"""A lean keep-alive HTTP channel for the decision hot path.

Every request makes one policy decision, so the client's cost per call is part
of every request's latency. A general HTTP client (requests, httpx) spends more
time per call than OPA spends evaluating; a per-thread ``http.client``
connection that stays open costs a fraction of that. Management calls (loading
policies, health) keep using opa-python-client.
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any
from urllib.parse import urlsplit

__all__ = ["DecisionChannel", "TransportError"]

# Errors after which a kept-alive connection is dropped and the call tried once more
# on a fresh one (OPA may close an idle connection at any time).
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)


class TransportError(Exception):
    """OPA could not be reached or answered something that is not a JSON object."""


class DecisionChannel:
    """POSTs JSON to one OPA data path over a persistent connection per thread."""

    def __init__(self, url: str, path: str, timeout_s: float) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError("the decision channel speaks plain HTTP to a loopback OPA")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._path = path
        self._timeout = timeout_s
        self._local = threading.local()
        # Every thread's connection, so close() can close them all (the API serves
        # requests from a thread pool; an unclosed socket would outlive the engine).
        self._open: set[http.client.HTTPConnection] = set()
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
            with self._lock:
                self._open.add(conn)
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                self._open.discard(conn)

    def post(self, document: dict[str, Any]) -> dict[str, Any]:
        """Send ``{"input": document}``; returns OPA's answer object."""
        body = json.dumps({"input": document}, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                response = conn.getresponse()
                payload = response.read()
            except _STALE as exc:
                self._drop()
                if attempt == 2:
                    raise TransportError("OPA closed the connection") from exc
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise TransportError("OPA does not answer") from exc
            if response.status != 200:
                raise TransportError(f"OPA answered HTTP {response.status}")
            try:
                answer = json.loads(payload)
            except ValueError as exc:
                raise TransportError("OPA answered something that is not JSON") from exc
            if not isinstance(answer, dict):
                raise TransportError("OPA answered something that is not a JSON object")
            return answer
        raise TransportError("OPA does not answer")  # pragma: no cover - loop always returns

    def close(self) -> None:
        """Close the connections of every thread."""
        with self._lock:
            conns, self._open = self._open, set()
        for conn in conns:
            conn.close()
        self._local = threading.local()
