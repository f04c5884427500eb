"""One Spark session for the whole test session (it takes seconds to start)."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def spark() -> object:
    """The engine's SparkSession in local mode; the tests skip without a Java runtime."""
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17")
    from gateway.engine import spark_engine

    return spark_engine.session()
