"""Periodic jobs inside ``sluis serve`` (retention, the drop folder) on one daemon thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.log import AuditContext
from gateway.services.runtime import Runtime

__all__ = ["Job", "Scheduler", "gateway_jobs"]

log = logging.getLogger("sluis.background")


@dataclass
class Job:
    """Run ``fn`` every ``interval_s`` seconds, first right at start."""

    name: str
    interval_s: float
    fn: Callable[[], object]
    due: float = 0.0


class Scheduler:
    """Runs jobs until :meth:`stop`; a failing job is logged (by type) and tried again later."""

    def __init__(self, jobs: list[Job]) -> None:
        self.jobs = [j for j in jobs if j.interval_s > 0]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sluis-background", daemon=True)
        self.runs: dict[str, int] = {j.name: 0 for j in self.jobs}

    def __enter__(self) -> Scheduler:
        if self.jobs:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to stop and wait for the job in progress to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if self._stop.is_set() or now < job.due:
                    continue
                try:
                    job.fn()
                except Exception as exc:
                    # The type only: a message might carry more than an operator should see.
                    log.warning("background job %s failed: %s", job.name, type(exc).__name__)
                job.due = time.monotonic() + job.interval_s
                self.runs[job.name] += 1
            wait = min((j.due for j in self.jobs), default=now + 1) - time.monotonic()
            self._stop.wait(max(0.05, wait))


def gateway_jobs(rt: Runtime, ctx: AuditContext, inbox_dir: Path | None = None) -> Scheduler:
    """The jobs `serve` runs: retention (unless its interval is 0), and the drop folder if set."""
    from gateway.services import inbox, retention

    jobs = [Job("retention", rt.settings.retention_interval_s, lambda: retention.run(rt, ctx))]
    folder = inbox_dir or rt.settings.inbox_dir
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        jobs.append(Job("inbox", rt.settings.inbox_interval_s, lambda: inbox.scan(rt, ctx, folder)))
    return Scheduler(jobs)
