"""One assignment of each shipped course, the way a learner meets it: fetched into their
home by their JupyterLab server, answered, submitted, graded in the sandbox. The expected
scores are stock nbgrader's (tests/courses/test_autograde_e2e.py grades the same answers
with `nbgrader autograde`)."""

import io
import json
import re
import tarfile

import nbformat
import pytest
from stack import ROOT, release_assignment, wait_for
from test_grader_service import GRADER_CALL, in_container

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


def solutions(course: str, assignment: str) -> dict[str, str]:
    """What a learner who knows the answers types: the solution cells, without markers."""
    src = ROOT / "courses" / course / "source" / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(src, as_version=4)
    return {
        c.metadata.nbgrader["grade_id"]: "\n".join(
            line for line in c.source.splitlines() if not _MARKER.match(line))
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
    }


def fetch(container, course: str, assignment: str) -> str:
    """Put the released files in ~/courses/<course>/<assignment>/, as the panel's Fetch does."""
    out = in_container(container, GRADER_CALL + f"""
import base64, pathlib
status, rel = call("GET", "courses/{course}/assignments/{assignment}/release")
assert status == 200, rel
folder = pathlib.Path.home() / "courses" / "{course}" / "{assignment}"
for name, data in rel["files"].items():
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data))
print(json.dumps({{"folder": str(folder)}}))
""")
    return out["folder"]


def answer(container, folder: str, assignment: str, answers: dict[str, str]) -> None:
    """Edit the fetched notebook in place, by grade id, as the learner would in JupyterLab."""
    path = f"{folder}/{assignment}.ipynb"
    raw = container.exec_run(["cat", path]).output
    nb = nbformat.reads(raw.decode(), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    data = nbformat.writes(nb).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(f"{assignment}.ipynb")
        info.size, info.uid, info.gid = len(data), 1000, 1000
        tar.addfile(info, io.BytesIO(data))
    assert container.put_archive(folder, buf.getvalue())


def submit_and_wait(container, course: str, assignment: str, folder: str) -> dict:
    sub = in_container(container, GRADER_CALL + f"""
import base64, pathlib
folder = pathlib.Path("{folder}")
files = {{p.name: base64.b64encode(p.read_bytes()).decode() for p in folder.glob("*.ipynb")}}
status, s = call("POST", "courses/{course}/assignments/{assignment}/submissions",
                 {{"files": files}})
print(json.dumps({{"status": status, "sub": s}}))
""")
    assert sub["status"] == 201, sub

    def graded():
        r = in_container(container, GRADER_CALL + f"""
status, s = call("GET", "submissions/{sub['sub']['id']}")
print(json.dumps(s))
""")
        return r if r.get("status") in ("graded", "failed") else None

    result = wait_for(graded, 300, f"the grade of {assignment}", interval=1)
    assert result["status"] == "graded", result
    return result


def cell_scores(result: dict) -> dict[str, float]:
    return {c["cell_id"]: c["score"] for c in result["cells"] if c["auto_score"] is not None}


CASES = [
    # course, assignment, wrong answers (on top of the right ones), expected scores
    ("python-foundations", "ps03-conditionals-and-functions",
     {"leap-year": "def is_leap_year(year):\n    return year % 4 == 0", "fizzbuzz": None},
     {"letter-grade-tests": 3, "leap-year-tests": 3, "fizzbuzz-tests": 4},
     {"letter-grade-tests": 3, "leap-year-tests": 0, "fizzbuzz-tests": 0}),
    ("data-analysis-pandas", "pa03-weather-plots",
     {"plot-rain": lambda right: right.replace('rows["rain_mm"]', 'rows["temp_c"]')},
     None, None),
]


@pytest.mark.parametrize("course,assignment,wrong,right_cells,wrong_cells", CASES,
                         ids=[c[1] for c in CASES])
def test_fetch_answer_submit_grade(stack, course, assignment, wrong, right_cells, wrong_cells):
    api = f"http://grader--service.localhost:{stack.port}/services/grader/api"
    release_assignment(api, stack.user_token("ada"), course, assignment)
    stack.spawn("alan")
    stack.spawn("grace")
    right = solutions(course, assignment)

    # alan answers everything correctly: full marks
    alan = stack.container("alan")
    folder = fetch(alan, course, assignment)
    answer(alan, folder, assignment, right)
    good = submit_and_wait(alan, course, assignment, folder)
    assert good["score"] == good["max_score"] > 0, good
    if right_cells:
        assert cell_scores(good) == right_cells

    # grace gets some wrong (and leaves what is None as released): less
    grace = stack.container("grace")
    folder = fetch(grace, course, assignment)
    answers = dict(right)
    for grade_id, change in wrong.items():
        if change is None:
            answers.pop(grade_id)
        elif callable(change):
            answers[grade_id] = change(right[grade_id])
        else:
            answers[grade_id] = change
    answer(grace, folder, assignment, answers)
    bad = submit_and_wait(grace, course, assignment, folder)
    assert bad["score"] < good["score"], bad
    if wrong_cells:
        assert cell_scores(bad) == wrong_cells
    print(json.dumps({"assignment": assignment, "right": good["score"], "wrong": bad["score"]}))
