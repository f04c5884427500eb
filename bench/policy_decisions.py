"""Policy decision latency and throughput against the real OPA over loopback.

Two paths on one persistent connection each: the gateway's own (PolicyEngine,
with its fail-closed checks and decision model) and the raw baseline (a bare
keep-alive ``http.client`` POST of the same input to the same OPA, answer
parsed, nothing checked). The HTTP floor is a GET of /health on the same kind
of connection: what any call costs before OPA evaluates anything.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gateway.policy.engine import DECISION_PACKAGE, DECISION_RULE, PolicyEngine
from gateway.policy.opa_server import OpaProcess, find_opa
from gateway.policy.store import shipped_policies
from tests.gateway.test_policy_matrix import query_input

WARMUP = 200
TARGET_P99_MS = 2.0
TARGET_PER_S = 2000


def _latencies(call: object, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        out.append(time.perf_counter() - t0)
    return sorted(out)


def _pct(samples: list[float], q: float) -> float:
    return samples[min(len(samples) - 1, int(q * len(samples)))] * 1000


def _throughput(make_call: object, threads: int, seconds: float = 3.0) -> float:
    def worker() -> int:
        call = make_call()  # type: ignore[operator]
        done, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            call()
            done += 1
        return done

    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(lambda _: worker(), range(threads)))
    return total / seconds


def run(n: int) -> None:
    document = query_input("analyst", "active", "research", "wpg-art22")
    with (
        tempfile.TemporaryDirectory(prefix="sluis-bench-opa-") as tmp,
        OpaProcess(find_opa(), Path(tmp) / "opa.log") as url,
    ):
        PolicyEngine(url).load(shipped_policies())
        path = f"{url}/v1/data/{DECISION_PACKAGE.replace('.', '/')}/{DECISION_RULE}"

        engine = PolicyEngine(url)
        engine.load(shipped_policies())
        host_port = url.removeprefix("http://")
        body = json.dumps({"input": document}).encode()
        headers = {"Content-Type": "application/json"}

        def bare(conn: http.client.HTTPConnection, method: str, target: str) -> dict[str, Any]:
            conn.request(method, target, body=body if method == "POST" else None, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            assert response.status == 200
            return json.loads(payload)  # type: ignore[no-any-return]

        raw = http.client.HTTPConnection(host_port)

        def raw_call() -> None:
            bare(raw, "POST", path)

        def gw_call() -> None:
            engine.decide_document(document)

        for _ in range(WARMUP):
            raw_call()
            gw_call()
        raw_lat, gw_lat = _latencies(raw_call, n), _latencies(gw_call, n)
        floor = _latencies(lambda: bare(raw, "GET", "/health"), n)
        evals = sorted(
            bare(raw, "POST", f"{path}?metrics=true")["metrics"]["timer_rego_query_eval_ns"] / 1e9
            for _ in range(n)
        )

        def make_raw() -> object:
            conn = http.client.HTTPConnection(host_port)
            return lambda: bare(conn, "POST", path)

        def make_gw() -> object:
            e = PolicyEngine(url)
            e.revision = engine.revision
            return lambda: e.decide_document(document)

        raw_tp = _throughput(make_raw, 2)
        gw_tp = _throughput(make_gw, 2)

    print(f"# policy decisions, {n} sequential calls on one keep-alive connection, real OPA")
    print(f"HTTP floor (/health): p50 {_pct(floor, 0.5):.2f} ms, p99 {_pct(floor, 0.99):.2f} ms")
    print(f"OPA evaluation only:  p50 {_pct(evals, 0.5):.2f} ms, p99 {_pct(evals, 0.99):.2f} ms")
    print(f"raw HTTP to OPA:   p50 {_pct(raw_lat, 0.5):.2f} ms, p99 {_pct(raw_lat, 0.99):.2f} ms")
    print(f"gateway decide():  p50 {_pct(gw_lat, 0.5):.2f} ms, p99 {_pct(gw_lat, 0.99):.2f} ms")
    print(f"ratio gateway / raw (p50): {_pct(gw_lat, 0.5) / _pct(raw_lat, 0.5):.2f}x")
    print(
        f"throughput, 2 client threads: gateway {gw_tp:,.0f}/s, raw {raw_tp:,.0f}/s "
        f"(ratio {gw_tp / raw_tp:.2f}x)"
    )
    met = _pct(gw_lat, 0.99) <= TARGET_P99_MS and gw_tp >= TARGET_PER_S
    print(
        f"target p99 <= {TARGET_P99_MS} ms and >= {TARGET_PER_S:,}/s: {'met' if met else 'NOT met'}"
    )
