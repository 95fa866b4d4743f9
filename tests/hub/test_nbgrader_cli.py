"""nbgrader's own command line in a learner's terminal, out of the box (issue #12).

A real hub spawns real learner containers from the learner image; in them, as in a
JupyterLab terminal (which inherits the server's environment: its hub token and the
grader's URL), `nbgrader list`, `fetch_assignment` and `submit` run with nothing but what
the image ships: its nbgrader_config.py turns the grader exchange on, where stock
nbgrader would look for the shared folder /usr/local/share/nbgrader/exchange and fail.
The instructor's side: `nbgrader list` and `collect` in the instructor's own container.
"""

import pytest
import requests
from stack import release_assignment, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

COURSE = "python-foundations"
ASSIGNMENT = "ps01-values-and-strings"
HOME = "/home/learner"


def nbgrader(container, *args: str, cwd: str = HOME) -> tuple[int, str]:
    """`nbgrader ...` in the container, as the learner, with the server's environment."""
    r = container.exec_run(["nbgrader", *args], workdir=cwd, user="learner")
    return r.exit_code, r.output.decode(errors="replace")


def test_nbgrader_list_fetch_submit_collect_in_spawned_servers(stack):
    api = f"http://grader--service.localhost:{stack.port}/services/grader/api"
    release_assignment(api, stack.user_token("ada"), COURSE, ASSIGNMENT)
    stack.spawn("alan")
    alan = stack.container("alan")

    # the image's own configuration is the one in use (nothing mounted, nothing written)
    code, out = alan.exec_run(["jupyter", "--paths"], user="learner")
    assert "/opt/studio/etc/jupyter" in out.decode()
    assert alan.exec_run(["test", "-e", f"{HOME}/nbgrader_config.py"]).exit_code == 1
    assert alan.exec_run(["test", "-e", "/usr/local/share/nbgrader/exchange"]).exit_code == 1

    code, out = nbgrader(alan, "list")
    assert code == 0, out
    assert "Unwritable directory" not in out
    assert f"{COURSE} {ASSIGNMENT} (released)" in out, out

    code, out = nbgrader(alan, "fetch_assignment", ASSIGNMENT, f"--course={COURSE}")
    assert code == 0, out
    code, out = nbgrader(alan, "list")
    assert code == 0 and f"{COURSE} {ASSIGNMENT} (fetched)" in out, out
    notebook = f"{HOME}/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
    r = alan.exec_run(["cat", notebook], user="learner")
    assert r.exit_code == 0 and '"nbgrader"' in r.output.decode(), r.output[:300]

    code, out = nbgrader(alan, "submit", ASSIGNMENT, f"--course={COURSE}")
    assert code == 0, out
    assert "Submitted as" in out, out
    # the grader has it, under alan's name, and grades it in its sandbox
    alan_api = {"Authorization": f"token {stack.user_token('alan')}"}
    subs = requests.get(f"{api}/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions",
                        headers=alan_api, timeout=30).json()
    assert subs and subs[-1]["username"] == "alan", subs
    sid = subs[-1]["id"]

    def graded():
        s = requests.get(f"{api}/submissions/{sid}", headers=alan_api, timeout=30).json()
        return s if s.get("status") in ("graded", "failed") else None

    assert wait_for(graded, 300, "the grade", interval=1)["status"] == "graded"
    code, out = nbgrader(alan, "list")
    assert code == 0 and f"{COURSE} {ASSIGNMENT} (submitted)" in out, out

    # the instructor, in their own server: list, then collect alan's submission
    stack.spawn("ada")
    ada = stack.container("ada")
    code, out = nbgrader(ada, "list")
    assert code == 0 and f"{COURSE} {ASSIGNMENT} (released)" in out, out
    code, out = nbgrader(ada, "list", "--inbound", f"--course={COURSE}")
    assert code == 0 and f"{COURSE} {ASSIGNMENT} alan " in out, out
    ada.exec_run(["mkdir", "-p", f"{HOME}/{COURSE}"], user="learner")
    code, out = nbgrader(ada, "collect", ASSIGNMENT, f"--course={COURSE}",
                         cwd=f"{HOME}/{COURSE}")
    assert code == 0, out
    r = ada.exec_run(["test", "-s",
                      f"{HOME}/{COURSE}/submitted/alan/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"])
    assert r.exit_code == 0, out
