"""Fixtures for the grading engine tests: a real Docker engine and the learner image."""

from __future__ import annotations

import os

import docker
import pytest
from traitlets.config import Config

# Test sessions sharing one Docker engine (a developer's and CI's) each set their own, else
# one session's cleanup removes the other's sandboxes mid-test.
PREFIX = os.environ.get("LS_TEST_SANDBOX_PREFIX", "ls-test-sandbox-")
WORK_ROOT = f"/tmp/{PREFIX.rstrip('-')}es"


def engine_config(**execute: object) -> Config:
    """Sandbox settings for tests: a test name prefix, nbgrader's Execute settings."""
    c = Config()
    c.DockerSandbox.name_prefix = PREFIX
    c.SandboxPool.remove_stale = False
    c.DockerSandbox.work_root = WORK_ROOT
    for key, value in execute.items():
        setattr(c.Execute, key, value)
    return c


@pytest.fixture(scope="session")
def docker_client():
    client = docker.from_env()
    client.images.get("learning-studio/learner:latest")  # fails loudly if not built
    yield client
    for c in client.containers.list(all=True, filters={"name": PREFIX}):
        c.remove(force=True)


def leftover_sandboxes(client) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"name": PREFIX})
            if c.name.startswith(PREFIX)]
