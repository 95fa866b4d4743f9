"""Shared test setup.

Tools that ``./studio test`` installs into the project's environment
(configurable-http-proxy, lint-imports, nbqa) are found there, the way an activated
environment finds them, whatever PATH pytest was started with: a hub that a test starts
inherits this PATH and finds its proxy the same way.
"""

import os

from tooling import VENV_BIN, stop_all_processes

if str(VENV_BIN) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])


def pytest_sessionfinish(session, exitstatus):
    stop_all_processes()
