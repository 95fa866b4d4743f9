"""Fixtures of the server extension's route tests.

A real JupyterHub with the real grader as its managed service, started by the grader
tests' own ``service_support`` (not a copy), and a real jupyter-server with our extension
loaded by pytest-jupyter, whose ``jp_fetch`` calls the routes as the browser would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import service_support
from extension_support import (
    COURSE,
    LEARNER_IMAGE,
    NO_GRADING,
    fake_openai_server,
    publish,
    server_config,
)
from tooling import require_tool

REPO = Path(__file__).resolve().parents[2]

# pytest-jupyter's fixtures (jp_fetch, jp_serverapp, ...), for this folder only: a
# non-root conftest may not declare pytest_plugins.
from pytest_jupyter.jupyter_core import *  # noqa: E402,F401,F403
from pytest_jupyter.jupyter_server import *  # noqa: E402,F401,F403

DOCKER_PREFIX = "ls-test-ext-"
GRADING = f"""
c.GraderSettings.worker_count = 1
c.GraderSettings.check_releases = False
c.GraderSettings.poll_seconds = 0.2
c.GraderSettings.user_cache_seconds = 1
c.DockerSandbox.name_prefix = "{DOCKER_PREFIX}"
c.DockerSandbox.image = "{LEARNER_IMAGE}"
c.SandboxPool.warm = 1
c.SandboxPool.concurrency = 1
"""


def _need_proxy() -> None:
    require_tool("configurable-http-proxy")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Hub + grader without grading workers, one course released, learners ann and bob."""
    _need_proxy()
    proc, hub = service_support.start_hub(tmp_path_factory.mktemp("hub"), NO_GRADING, {})
    publish(hub)
    yield hub
    service_support.stop_hub(proc)


@pytest.fixture(scope="module")
def ai():
    """The local OpenAI-compatible test server, for the modules whose hub uses it
    (extension_support.ai_hub)."""
    with fake_openai_server() as server:
        yield server


def _docker_rm_prefix() -> None:
    ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={DOCKER_PREFIX}"],
                         capture_output=True, text=True).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


@pytest.fixture(scope="session")
def grading_hub(tmp_path_factory):
    """Hub + grader grading in real Docker sandboxes (the learner image); one for the
    session, as starting it and its warm sandbox is the slow part. Tests that share it
    use different learners or assignments."""
    _need_proxy()
    if subprocess.run(["docker", "image", "inspect", LEARNER_IMAGE],
                      capture_output=True).returncode != 0:
        pytest.fail(f"image {LEARNER_IMAGE} is missing: bash images/build.sh learner")
    proc, hub = service_support.start_hub(tmp_path_factory.mktemp("ghub"), GRADING, {})
    publish(hub)
    yield hub
    service_support.stop_hub(proc)
    _docker_rm_prefix()


@pytest.fixture
def learner_token(hub):
    return hub.token("ann")


@pytest.fixture
def jp_server_config(hub, learner_token):
    return server_config(hub, learner_token)


@pytest.fixture
def course() -> str:
    return COURSE


@pytest.fixture
def studio(jp_fetch, jp_asyncio_loop):
    """jp_fetch, run to completion on the server's own loop.

    Tests here are plain functions: pytest-asyncio (auto mode, repo-wide) would otherwise
    run async tests on a loop of its own while the server waits on pytest-jupyter's.
    """

    def fetch(*path, **kw):
        return jp_asyncio_loop.run_until_complete(jp_fetch(*path, **kw))

    return fetch


def pytest_configure(config):
    config.addinivalue_line("markers", "as_user(name): run the jupyter server as this hub user")
