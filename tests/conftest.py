"""Shared test setup.

Tools that ``./studio test`` installs into the project's environment
(configurable-http-proxy, lint-imports, nbqa) are found there, the way an activated
environment finds them, whatever PATH pytest was started with: a hub that a test starts
inherits this PATH and finds its proxy the same way.

Learners' home images (the home quota, hub/homes.py) of every stack a test starts go to
a folder of this session (STUDIO_HOMES_DIR, unless a test or the caller sets its own),
never the host's /var/lib/learning-studio/homes; their loop devices are released at the
end.
"""

import os
import shutil
import tempfile
from pathlib import Path

from tooling import VENV_BIN, stop_all_processes

if str(VENV_BIN) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")])


_HOMES = None
if "STUDIO_HOMES_DIR" not in os.environ:
    _HOMES = tempfile.mkdtemp(prefix="ls-test-homes-")
    os.environ["STUDIO_HOMES_DIR"] = _HOMES


def pytest_sessionfinish(session, exitstatus):
    stop_all_processes()
    if _HOMES and any(Path(_HOMES).glob("*.img")):
        import docker
        from stack import release_homes

        try:
            release_homes(docker.from_env(), _HOMES, os.environ.get(
                "STUDIO_LEARNER_IMAGE", "learning-studio/learner:latest"))
        except Exception as e:  # a session's end must not hide its results
            print(f"releasing the test homes in {_HOMES} failed: {e}")
            return
    if _HOMES:
        shutil.rmtree(_HOMES, ignore_errors=True)
