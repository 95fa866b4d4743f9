"""The grader runs as a hub-managed service, and one submission goes the whole way:
an instructor releases, a learner's JupyterLab server fetches and submits with its own
hub token, the sandbox grades, the learner reads the grade."""

import base64
import json
import textwrap

import pytest
import requests
from stack import ROOT, release_assignment, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(600)]

COURSE = "python-foundations"
ASSIGNMENT = "ps03-conditionals-and-functions"
SOURCE = ROOT / "courses" / COURSE / "source" / ASSIGNMENT


def in_container(container, script: str) -> dict:
    """Run Python inside a learner's container, as their JupyterLab server would."""
    out = container.exec_run(["python3", "-c", textwrap.dedent(script)]).output.decode()
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise AssertionError(f"script failed in the learner container:\n{out}") from None


GRADER_CALL = """
import json, os, sys, urllib.request, urllib.error
def call(method, path, body=None):
    req = urllib.request.Request(os.environ["STUDIO_GRADER_URL"] + "api/" + path,
        method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"],
                 "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()[:300]
"""


@pytest.fixture(scope="module")
def released(stack):
    """ada, instructor of the course (hub group), creates it and releases ps03."""
    g = f"http://grader--service.localhost:{stack.port}/services/grader/api"
    release_assignment(g, stack.user_token("ada"), COURSE, ASSIGNMENT)
    return g


def test_learner_server_fetches_submits_and_gets_the_grade(stack, released):
    stack.spawn("alan")
    alan = stack.container("alan")
    # the released (student) version, fetched with the server's own token
    fetched = in_container(alan, GRADER_CALL + f"""
status, rel = call("GET", "courses/{COURSE}/assignments/{ASSIGNMENT}/release")
print(json.dumps({{"status": status, "files": sorted(rel["files"]) if status == 200 else rel}}))
""")
    assert fetched["status"] == 200, fetched
    notebook = f"{ASSIGNMENT}.ipynb"
    assert notebook in fetched["files"]

    # submit the instructor's solution as if the learner had written it: full marks
    solution = base64.b64encode((SOURCE / notebook).read_bytes()).decode()
    sub = in_container(alan, GRADER_CALL + f"""
status, s = call("POST", "courses/{COURSE}/assignments/{ASSIGNMENT}/submissions",
                 {{"files": {{"{notebook}": "{solution}"}}}})
print(json.dumps({{"status": status, "sub": s}}))
""")
    assert sub["status"] == 201, sub
    sid = sub["sub"]["id"]

    def graded():
        r = in_container(alan, GRADER_CALL + f"""
status, s = call("GET", "submissions/{sid}")
print(json.dumps(s))
""")
        return r if r.get("status") in ("graded", "failed") else None

    result = wait_for(graded, 300, "the grade", interval=1)
    assert result["status"] == "graded", result
    assert result["score"] == result["max_score"] > 0

    # grace cannot read alan's submission, even knowing its id
    stack.spawn("grace")
    other = in_container(stack.container("grace"), GRADER_CALL + f"""
status, s = call("GET", "submissions/{sid}")
print(json.dumps({{"status": status}}))
""")
    assert other["status"] == 404


def test_token_without_the_grader_scope_is_refused(stack, released):
    token = stack.user_token("alan", scopes=["read:users:name!user=alan"])
    r = requests.get(f"{released}/courses", headers={"Authorization": f"token {token}"},
                     timeout=10)
    assert r.status_code == 403
