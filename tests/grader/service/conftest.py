"""Fixtures of the grader service tests (helpers live in service_support.py).

``hub`` starts a real JupyterHub (and its configurable-http-proxy) as a subprocess on free
loopback ports, with the grader registered as a managed service, exactly as production
runs it. Databases: SQLite always, PostgreSQL too when LS_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import os

import pytest
from service_support import start_hub, stop_hub
from tooling import require_tool


@pytest.fixture(scope="session")
def postgres_url():
    return os.environ.get("LS_TEST_POSTGRES_URL")


def _reset_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    from grader.service.orm import normalise_url

    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, postgres_url):
    """A fresh, empty database: SQLite, and PostgreSQL when LS_TEST_POSTGRES_URL is set."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'grader.sqlite'}"
        return
    if not postgres_url:
        pytest.skip("LS_TEST_POSTGRES_URL is not set (PostgreSQL variant)")
    _reset_postgres(postgres_url)
    yield postgres_url
    _reset_postgres(postgres_url)


@pytest.fixture
def gradebook(db_url, tmp_path):
    from grader.service.config import GraderSettings
    from grader.service.gradebook import open_gradebook

    settings = GraderSettings(
        database_url=db_url, blob_dir=str(tmp_path / "blobs"), lease_seconds=2.0,
        max_attempts=3,
    )
    book = open_gradebook(settings, upgrade=True)
    yield book
    book.sessions.kw["bind"].dispose()


NO_SANDBOX_CONFIG = """
c.GraderSettings.worker_count = 0          # no grading: these tests need no Docker
c.GraderSettings.check_releases = False
c.GraderSettings.max_upload_bytes = 200_000
c.GraderSettings.max_upload_files = 5
c.GraderSettings.user_cache_seconds = 1
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A hub + grader (no grading workers) shared by the tests of one module."""
    require_tool("configurable-http-proxy")
    proc, hub = start_hub(tmp_path_factory.mktemp("hub"), NO_SANDBOX_CONFIG, {})
    yield hub
    stop_hub(proc)
