"""Where the tests find the tools ``./studio test`` installs into the project's environment."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

#: the environment's bin folder: .venv/bin when run by ./studio test
VENV_BIN = Path(sys.executable).parent


def require_tool(name: str) -> str:
    """The path of a tool installed into the environment, or a failure that says the fix."""
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing from {VENV_BIN}: run ./studio test, which installs it there")
    return found


# -- processes the tests start -------------------------------------------------------------
# Every service a fixture starts is registered here the moment it starts, in its own
# process group, so that whatever fails later (a second fixture, the test, pytest itself),
# the session's end stops it and whatever it started: no orphaned hub, proxy or site.
_started: list[subprocess.Popen] = []


def start_process(args: list[str], **kwargs) -> subprocess.Popen:
    """subprocess.Popen in a new process group, stopped at the session's end at the latest."""
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    _started.append(proc)
    return proc


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (a hub then stops its proxy and services), then SIGKILL the whole group."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything of the group still there
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.wait()
    if proc in _started:
        _started.remove(proc)


def stop_all_processes() -> None:
    for proc in list(_started):
        stop_process(proc, timeout=5)
