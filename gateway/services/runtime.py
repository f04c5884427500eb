"""What every service call needs: settings, database, policy engine and keys, in one object."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

from sqlalchemy import text
from sqlalchemy.orm import Session

from gateway.core.config import Settings
from gateway.core.db import session_scope
from gateway.core.errors import DependencyDown
from gateway.core.keys import provider_for
from gateway.policy.engine import PolicyEngine
from gateway.policy.store import PolicyStore

# One writer at a time inside a process, so audit entries chain in order.
_WRITE_LOCK = threading.RLock()
_SYNC_LOCK = threading.Lock()


@dataclass
class Runtime:
    settings: Settings
    policy: PolicyEngine | None = None
    clock: type[datetime] = field(default=datetime)

    @property
    def db_url(self) -> str:
        return self.settings.db_url

    @property
    def master_key(self) -> bytes:
        """Read afresh each time, so `sluis keys rotate` in another process applies at once."""
        return provider_for(self.settings).load()

    @cached_property
    def policy_store(self) -> PolicyStore:
        return PolicyStore(self.settings.policy_dir, self.settings.opa_bin)

    def engine(self) -> PolicyEngine:
        """The policy engine, loaded with the set in force.

        A set activated elsewhere (``sluis policy activate`` in another process)
        is picked up here, before the next decision, by comparing revisions.
        """
        if self.policy is None:
            raise DependencyDown("no policy engine is configured; access denied")
        if self.policy.revision != self.policy_store.revision:
            with _SYNC_LOCK:
                if self.policy.revision != self.policy_store.revision:
                    self.policy.load(self.policy_store.current)
        return self.policy

    def today(self) -> date:
        return self.clock.now(UTC).date()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with session_scope(self.db_url) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that may change state (and so append to the audit log)."""
        with _WRITE_LOCK, session_scope(self.db_url) as session:
            if session.get_bind().dialect.name == "postgresql":
                # Serialise audit appends across processes too.
                session.execute(text("SELECT pg_advisory_xact_lock(7242011)"))
            yield session
