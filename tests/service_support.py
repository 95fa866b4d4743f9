"""Helpers of the grader service tests (imported by conftest.py, the tests and the benchmark).

``hub`` starts a real JupyterHub (and its configurable-http-proxy) as a subprocess on free
loopback ports, with the grader registered as a managed service, exactly as production
runs it. Users, groups and tokens are made through the hub's REST API with an admin
service token. Databases: SQLite always, PostgreSQL too when LS_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import requests
from tooling import start_process, stop_process

from grader.service.orm import Assignment, Course, Release, Submission

# The checkout these tests belong to (tests/ is directly under it): the grader processes the
# tests start import the code of this checkout, whatever the virtualenv was installed from.
REPO = Path(__file__).resolve().parents[1]
PYTHONPATH = os.pathsep.join([str(REPO), str(REPO / "contracts")])
ADMIN_TOKEN = secrets.token_hex(16)
SERVICE = "grader"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- an nbgrader assignment made here, so the tests do not depend on course content ----

SOLUTION = "def squares(n):\n    ### BEGIN SOLUTION\n    return [i * i for i in range(1, n + 1)]\n    ### END SOLUTION\n"
TESTS = (
    "assert squares(3) == [1, 4, 9]\n"
    "### BEGIN HIDDEN TESTS\n"
    "assert squares(1) == [1]  # HIDDEN-MARKER\n"
    "### END HIDDEN TESTS\n"
)


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id,
            "schema_version": 3, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def source_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Squares", metadata=_meta("intro", locked=True)),
        nbformat.v4.new_code_cell(SOLUTION, metadata=_meta("squares", solution=True)),
        nbformat.v4.new_code_cell(
            TESTS, metadata=_meta("test_squares", grade=True, locked=True, points=2)
        ),
        nbformat.v4.new_markdown_cell(
            "Squares grow fast because n*n.",
            metadata=_meta("explain", grade=True, solution=True, points=1),
        ),
    ]
    return nb


def write_source(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(source_notebook(), folder / "ps1.ipynb")
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "input.csv").write_text("n\n3\n")
    return folder


def source_files() -> dict[str, bytes]:
    return {
        "ps1.ipynb": nbformat.writes(source_notebook()).encode(),
        "data/input.csv": b"n\n3\n",
    }


def answered(student_nb: bytes, correct: bool) -> bytes:
    """A learner's notebook: the student version with (or without) a working answer."""
    nb = nbformat.reads(student_nb.decode(), as_version=4)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "squares" and correct:
            cell.source = "def squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
        if gid == "explain":
            cell.source = "Because each is n times n."
    return nbformat.writes(nb).encode()


# ---- a real JupyterHub with the grader as a managed service ----------------------------


class Hub:
    def __init__(self, url: str, root: Path):
        self.url = url.rstrip("/")
        self.root = root
        self.api = f"{self.url}/hub/api"
        self.grader = f"{self.url}/services/{SERVICE}/api"
        self.admin = requests.Session()
        self.admin.headers["Authorization"] = f"token {ADMIN_TOKEN}"

    def user(self, name: str, groups: tuple[str, ...] = ()) -> str:
        r = self.admin.post(f"{self.api}/users/{name}")
        assert r.status_code in (201, 409), r.text
        for group in groups:
            r = self.admin.post(f"{self.api}/groups/{group}")
            assert r.status_code in (201, 409), r.text
            r = self.admin.post(f"{self.api}/groups/{group}/users", json={"users": [name]})
            assert r.status_code == 200, r.text
        return name

    def token(self, name: str, scopes: list[str] | None = None) -> str:
        """A token like a learner server's: only the access scope (unless told otherwise)."""
        body = {"note": "grader test", "expires_in": 3600,
                "scopes": scopes if scopes is not None else [f"access:services!service={SERVICE}"]}
        r = self.admin.post(f"{self.api}/users/{name}/tokens", json=body)
        assert r.status_code == 201, r.text
        return r.json()["token"]

    def client(self, token: str | None) -> requests.Session:
        s = requests.Session()
        if token:
            s.headers["Authorization"] = f"token {token}"
        return s


ADMIN_SCOPES = ["admin:users", "admin:groups", "tokens", "list:users"]


def start_hub(root: Path, grader_config: str, env: dict[str, str],
              admin_scopes: list[str] | None = None) -> tuple[subprocess.Popen, Hub]:
    root.mkdir(parents=True, exist_ok=True)
    port, hub_port, api_port, grader_port = (free_port() for _ in range(4))
    (root / "grader_config.py").write_text(grader_config)
    service_env = {
        "PYTHONPATH": PYTHONPATH,
        "GRADER_DATABASE_URL": env.get("GRADER_DATABASE_URL", f"sqlite:///{root / 'grader.sqlite'}"),
        "GRADER_BLOB_DIR": str(root / "blobs"),
        **{k: v for k, v in env.items() if k != "GRADER_DATABASE_URL"},
    }
    config = textwrap.dedent(f"""
        c.JupyterHub.ip = "127.0.0.1"
        c.JupyterHub.port = {port}
        c.JupyterHub.hub_ip = "127.0.0.1"
        c.JupyterHub.hub_port = {hub_port}
        c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
        c.JupyterHub.db_url = "sqlite:///{root / 'hub.sqlite'}"
        c.JupyterHub.cookie_secret_file = "{root / 'cookie_secret'}"
        c.ConfigurableHTTPProxy.pid_file = "{root / 'proxy.pid'}"
        c.JupyterHub.authenticator_class = "dummy"
        c.Authenticator.allow_all = True
        c.JupyterHub.cleanup_servers = True
        c.JupyterHub.services = [
            {{"name": "test-admin", "api_token": "{ADMIN_TOKEN}"}},
            {{
                "name": "{SERVICE}",
                "url": "http://127.0.0.1:{grader_port}",
                "command": [{sys.executable!r}, "-m", "grader", "serve"],
                "cwd": "{root}",
                "environment": {json.dumps(service_env)},
                "oauth_no_confirm": True,
            }},
        ]
        c.JupyterHub.load_roles = [
            {{"name": "user", "scopes": ["self", "access:services!service={SERVICE}"]}},
            {{"name": "server", "scopes": ["users:activity!user", "access:servers!server",
                                          "access:services!service={SERVICE}"]}},
            {{"name": "test-admin", "services": ["test-admin"],
              "scopes": {json.dumps(admin_scopes or ADMIN_SCOPES)}}},
        ]
    """)
    (root / "jupyterhub_config.py").write_text(config)
    log = open(root / "hub.log", "wb")
    proc = start_process(
        [sys.executable, "-m", "jupyterhub", "-f", str(root / "jupyterhub_config.py")],
        cwd=root, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
    )
    hub = Hub(f"http://127.0.0.1:{port}", root)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("jupyterhub exited:\n" + (root / "hub.log").read_text()[-4000:])
        try:
            if requests.get(f"{hub.grader}/health", timeout=2).status_code == 200:
                return proc, hub
        except requests.RequestException:
            pass
        time.sleep(0.3)
    stop_hub(proc)
    raise RuntimeError("hub or grader did not come up:\n" + (root / "hub.log").read_text()[-4000:])


def stop_hub(proc: subprocess.Popen) -> None:
    stop_process(proc)


def make_submissions(book, n: int, users: list[str] | None = None) -> list[int]:
    """Rows for n submissions of one assignment, each with a queued job (of user u<i>, or
    users[i])."""
    tree = book.blobs.put_tree({"ps1.ipynb": b"{}"})
    with book.sessions.begin() as s:
        course = Course(slug="q", title="Queue")
        s.add(course)
        s.flush()
        a = Assignment(course_id=course.id, slug="ps1")
        s.add(a)
        s.flush()
        r = Release(assignment_id=a.id, version=1, source_tree=tree, student_tree=tree,
                    build_blob=tree)
        s.add(r)
        s.flush()
        ids = []
        for i in range(n):
            user = users[i] if users else f"u{i}"
            attempt = 1 + sum(1 for u in (users or [])[:i] if u == user)
            sub = Submission(assignment_id=a.id, release_id=r.id, username=user,
                             attempt=attempt, tree=tree)
            s.add(sub)
            s.flush()
            book.queue.enqueue(s, sub.id)
            ids.append(sub.id)
        return ids
