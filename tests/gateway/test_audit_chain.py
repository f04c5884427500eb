"""The hash chain itself, independent of the API."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.log import GENESIS, AuditContext, append, verify, verify_session
from gateway.core.config import Settings
from gateway.core.db import session_scope, upgrade
from gateway.models import AuditEntry


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = Settings(data_dir=tmp_path).db_url
    upgrade(url)
    return url


def _fill(db_url: str, n: int) -> list[AuditEntry]:
    with session_scope(db_url) as s:
        for i in range(n):
            append(
                s,
                AuditContext("tester", request_id=f"r{i}"),
                "thing.happen",
                f"obj:{i}",
                decision_id=f"d{i}",
                policy_revision="rev",
                details={"i": i, "nested": {"ok": True}},
            )
    with session_scope(db_url) as s:
        return list(s.query(AuditEntry).order_by(AuditEntry.seq))


def test_chain_links_and_verifies(db_url: str) -> None:
    entries = _fill(db_url, 5)
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    with session_scope(db_url) as s:
        assert verify_session(s).ok and verify_session(s).entries == 5


def test_empty_chain_is_ok() -> None:
    report = verify([])
    assert report.ok and report.entries == 0


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_any_single_change_breaks_the_chain(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    url = Settings(data_dir=tmp_path_factory.mktemp("chain")).db_url
    upgrade(url)
    entries = _fill(url, 6)
    kind = data.draw(st.sampled_from(["edit", "delete", "swap"]))
    i = data.draw(st.integers(0, 4))
    if kind == "edit":
        field = data.draw(st.sampled_from(["actor", "action", "object", "decision_id", "ts"]))
        setattr(entries[i], field, "forged")
    elif kind == "delete":
        del entries[i]
    else:
        entries[i], entries[i + 1] = entries[i + 1], entries[i]
    assert not verify(entries).ok
