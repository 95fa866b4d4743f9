"""Learners in headless Chromium against the real stack: hub + proxy (tests/stack.py)
spawning real learner containers built with the extension, and the real grader service
grading in Docker sandboxes.

The hub runs the grader as a managed service (hub/setup.py); this module only gives it
a quicker queue. Screenshots of each step go to test-artifacts/extensions/.

Each test logs in on its own and takes what it needs from module fixtures (the stack with
the course released and its lessons stored, a graded submission of a learner made through
the API), so any one of them runs alone or in any order.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests
import yaml
from extension_support import COURSE, LEARNER_IMAGE, fake_openai_server, hinted_source
from playwright.sync_api import expect
from service_support import answered, free_port
from stack import Stack

from grader.courses.client import push_lessons

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.slow,
              pytest.mark.timeout(900)]

ARTIFACTS = REPO / "test-artifacts" / "extensions"
PASSWORD = "e2e-password"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

GRADER_CONFIG = """
c.GraderSettings.worker_count = 1
c.GraderSettings.check_releases = False
c.GraderSettings.poll_seconds = 0.2
c.GraderSettings.user_cache_seconds = 1
c.DockerSandbox.name_prefix = "{prefix}-sandbox-"
c.DockerSandbox.image = "{image}"
c.SandboxPool.concurrency = 1
# one submission a minute per learner: every test's learner submits once, except the one
# that submits twice in a row to see the rate limit
c.GraderSettings.submission_rate = 1
# the tutor's journey asks four times within a minute
c.GraderSettings.tutor_rate_per_minute = 10
"""


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    if subprocess.run(["docker", "image", "inspect", LEARNER_IMAGE],
                      capture_output=True).returncode != 0:
        pytest.fail(f"{LEARNER_IMAGE} is missing: bash images/build.sh learner")
    if not Path("/usr/bin/chromium").exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium")
    work = tmp_path_factory.mktemp("e2e")
    grader_port = free_port()
    # the hub runs the grader as a managed service (hub/setup.py), in <data>/grader,
    # where it reads grader_config.py: a quicker queue for the test
    grader_dir = work / "hub" / "grader"
    grader_dir.mkdir(parents=True)
    # the AI tutor's model: the local OpenAI-compatible test server (the grader runs in
    # the hub's process tree on this host, so loopback reaches it)
    ai = fake_openai_server().__enter__()
    stack = Stack(work, STUDIO_LEARNER_IMAGE=LEARNER_IMAGE, STUDIO_DEMO_PASSWORD=PASSWORD,
                  STUDIO_GRADER_PORT=str(grader_port), OPENAI_BASE_URL=ai.base_url)
    (grader_dir / "grader_config.py").write_text(
        GRADER_CONFIG.format(prefix=stack.prefix, image=LEARNER_IMAGE))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        stack.start_proxy()
        stack.start_hub()
        gateway = _gateway(stack)
        grader = f"http://{gateway}:{grader_port}/services/grader/api"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{grader}/health", timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "grader did not start:\n" + stack.hub_log()
            time.sleep(0.5)
        # ada (demo instructor of python-foundations) may create courses
        stack.admin("POST", "groups/instructors")
        r = stack.admin("POST", "groups/instructors/users", json={"users": ["ada"]})
        assert r.ok, r.text
        ada = {"Authorization": f"token {stack.user_token('ada')}"}
        r = requests.post(f"{grader}/courses", headers=ada,
                          json={"slug": COURSE, "title": "Python Foundations"})
        assert r.status_code == 201, r.text
        r = requests.post(
            f"{grader}/courses/{COURSE}/assignments/squares/release", headers=ada,
            json={"files": {"squares.ipynb": base64.b64encode(hinted_source()).decode()},
                  "due_at": "2030-01-01T00:00:00Z", "max_submissions": 3},
        )
        assert r.status_code == 201, r.text
        # the course's lessons, stored in the grader as a course import stores them
        session = requests.Session()
        session.headers["Authorization"] = f"token {stack.user_token('ada')}"
        manifest = yaml.safe_load((REPO / "courses" / COURSE / "course.yml").read_text())
        assert push_lessons(session, grader, REPO / "courses" / COURSE, COURSE,
                            manifest["lessons"]) == 10
        yield {"stack": stack, "grader": grader, "ai": ai}
    finally:
        stack.close()
        ai.__exit__(None, None, None)


@pytest.fixture(scope="module")
def joan_submission(e2e) -> int:
    """A graded submission of a third learner, joan, made through the grader's API: what
    the instructor's and the second learner's tests look at, whatever ran before."""
    stack, grader = e2e["stack"], e2e["grader"]
    enrol(stack, "joan")
    joan = {"Authorization": f"token {stack.user_token('joan')}"}
    release = requests.get(f"{grader}/courses/{COURSE}/assignments/squares/release",
                           headers=joan, timeout=30).json()
    mine = answered(base64.b64decode(release["files"]["squares.ipynb"]), correct=True)
    r = requests.post(f"{grader}/courses/{COURSE}/assignments/squares/submissions",
                      headers=joan, timeout=30,
                      json={"files": {"squares.ipynb": base64.b64encode(mine).decode()}})
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    deadline = time.monotonic() + 300
    while True:
        sub = requests.get(f"{grader}/submissions/{sub_id}", headers=joan, timeout=30).json()
        if sub["status"] in ("graded", "failed"):
            break
        assert time.monotonic() < deadline, "joan's submission was not graded in 300 s"
        time.sleep(0.5)
    assert sub["status"] == "graded" and sub["score"] == 2, sub
    return sub_id


def enrol(stack: Stack, name: str) -> None:
    """A hub user (made if new) in the course's learners."""
    r = stack.admin("POST", f"users/{name}")
    assert r.status_code in (201, 409), r.text
    r = stack.admin("POST", f"groups/learners:{COURSE}/users", json={"users": [name]})
    assert r.ok, r.text


def _gateway(stack: Stack) -> str:
    net = stack.docker.networks.get(f"{stack.prefix}-learners")
    return net.attrs["IPAM"]["Config"][0]["Gateway"]


@pytest.fixture
def jp_asyncio_loop():
    """A loop of its own: pytest-jupyter's default would grab Playwright's running one."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def login(browser, stack: Stack, name: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"http://localhost:{stack.port}/hub/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    # the hub spawns the container and sends the browser to <name>.localhost/user/<name>/lab
    page.wait_for_url(re.compile(rf"{name}\.localhost.*/lab"), timeout=180_000)
    page.wait_for_selector(".jp-LabShell", timeout=120_000)
    return context, page


def open_courses(page):
    if page.locator("#learning-studio-courses").is_visible():
        return
    page.click(".jp-SideBar [title='Courses'], .jp-SideBar li[data-id='learning-studio-courses']")
    page.wait_for_selector(".ls-course", timeout=60_000)


def set_answer(page, code: str, cell=None) -> None:
    """Replace the answer cell's code as a learner would type it."""
    cell = cell or page.locator(".jp-Cell", has_text="YOUR CODE HERE").first
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)


def test_learner_fetches_checks_fixes_submits_and_sees_the_grade(e2e, browser):
    stack = e2e["stack"]
    context, page = login(browser, stack, "alan")
    try:
        learner_journey(e2e, page)
    except Exception:
        shot(page, "failure-learner")
        raise
    finally:
        context.close()


def learner_journey(e2e, page):
    open_courses(page)
    course = page.locator(f".ls-course[data-course='{COURSE}']")
    squares = course.locator(".ls-assignment[data-assignment='squares']")
    assert "new" in squares.locator(".ls-status").inner_text()
    # the course's lessons, as the grader lists them (not the image's baked-in copy)
    assert course.locator(".ls-lessons li").count() == 10
    assert course.locator(".ls-lessons button[data-source='grader']").count() == 10
    shot(page, "01-courses-panel")

    squares.locator("button[data-action='Fetch']").click()
    page.wait_for_selector(".jp-NotebookPanel .ls-check", timeout=60_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle'], "
                           ".jp-Notebook", timeout=60_000)
    # badges say what each cell is; the authoring buttons are not in a learner's copy
    answer_cell = page.locator(".jp-Cell", has_text="YOUR CODE HERE").first
    expect(answer_cell.locator(".ls-cell-kind")).to_have_text("solution")
    shot(page, "02-fetched-notebook")
    answer_cell.locator(".jp-InputPrompt").click()
    answer_cell.locator(".jp-cell-toolbar").wait_for()
    assert answer_cell.locator(
        ".jp-cell-toolbar [data-command='learning-studio:wrap-solution']:visible").count() == 0

    # Check on the released (unanswered) notebook: the test cell is marked failed inline
    page.locator(".jp-NotebookPanel .ls-check button, .jp-NotebookPanel .ls-check").first.click()
    badge = page.locator(".ls-test-badge").first
    badge.wait_for(timeout=120_000)
    page.wait_for_selector(".ls-test-badge[data-result='failed']", timeout=120_000)
    shot(page, "03-check-fails")

    # Hint: the first hint, then the next one
    page.locator(".jp-NotebookPanel .ls-hint-button").first.click()
    page.wait_for_selector(".ls-hint-text")
    assert "range(1, n + 1)" in page.inner_text(".ls-hint-text")
    shot(page, "04-hint")
    page.click(".jp-Dialog button:has-text('Next hint')")
    page.wait_for_selector(".ls-hint-text:has-text('list comprehension')")
    page.click(".jp-Dialog button:has-text('Close')")

    set_answer(page, "def squares(n):\n    return [i * i for i in range(1, n + 1)]")
    page.locator(".jp-NotebookPanel .ls-check").first.click()
    page.wait_for_selector(".ls-test-badge[data-result='passed']", timeout=120_000)
    shot(page, "05-check-passes")

    page.locator(".jp-NotebookPanel .ls-submit").first.click()
    page.click(".jp-Dialog button:has-text('Submit')")
    page.wait_for_selector("text=grading…", timeout=60_000)
    shot(page, "06-submitted-grading")
    # the Feedback view opens when the grade arrives
    page.wait_for_selector(".ls-Feedback .ls-cells", timeout=300_000)
    text = page.inner_text(".ls-Feedback")
    assert "test_squares" in text and "passed" in text
    assert "HIDDEN-MARKER" not in text
    page.wait_for_selector(".ls-feedback-frame")
    assert page.get_attribute(".ls-feedback-frame", "sandbox") == ""
    shot(page, "07-feedback")
    open_courses(page)
    page.locator("button.ls-refresh").click()
    page.wait_for_selector(".ls-assignment[data-assignment='squares'] "
                           ".ls-status:has-text('graded 2')", timeout=60_000)
    shot(page, "08-panel-graded")


TUTOR_ANSWER = (
    "Look at the test: it expects squares(3) to give three numbers.\n"
    "What does your cell give right now when it runs?\n"
    "Which Python tool gives you the numbers 1, 2 and 3 in turn,\n"
    "and what would you do with each of them before putting it in a list?\n")
TUTOR_FOLLOW_UP = "Think about where range starts. What does list(range(3)) give you?\n"
TUTOR_LEAK = ("Sure:\n```python\ndef squares(n):\n    return [i * i for i in range(1, n + 1)]\n"
              "```\n")


def test_learner_asks_the_tutor_about_a_failing_check_then_fixes_and_submits(e2e, browser):
    """The tutor journey: Check fails -> Explain -> the answer streams into the side panel
    (thinking, then answering, then done) -> a follow-up in the same conversation -> an
    answer that gives the solution away is withdrawn and written again -> the learner's
    own fix -> Check passes -> Submit -> feedback."""
    stack, ai = e2e["stack"], e2e["ai"]
    enrol(stack, "maria")
    context, page = login(browser, stack, "maria")
    try:
        open_courses(page)
        page.locator(f".ls-course[data-course='{COURSE}'] .ls-assignment[data-assignment="
                     "'squares'] button[data-action='Fetch']").click()
        page.wait_for_selector(".jp-NotebookPanel .ls-check", timeout=60_000)
        # the tutor is on here: its toolbar button is not marked off
        tutor_button = page.locator(".jp-NotebookPanel .ls-tutor-button").first
        tutor_button.wait_for()
        page.wait_for_timeout(500)
        assert "ls-tutor-off" not in (tutor_button.get_attribute("class") or "")
        # a wrong answer of the learner's own, then Check: the test fails
        set_answer(page, "def squares(n):\n    return [i * i for i in range(n)]")
        page.locator(".jp-NotebookPanel .ls-check").first.click()
        page.wait_for_selector(".ls-test-badge[data-result='failed']", timeout=120_000)

        # Explain: the panel opens, thinks, then the answer streams in piece by piece
        ai.replies, ai.chunk_delay = [TUTOR_ANSWER], 0.08
        asked = len(ai.requests)
        page.locator(".ls-test-badge[data-result='failed'] .ls-tutor-explain").click()
        panel = page.locator("#learning-studio-tutor")
        expect(panel).to_be_visible()
        expect(panel.locator(".ls-tutor-about")).to_contain_text("exercise squares")
        expect(panel.locator(".ls-tutor-about")).to_contain_text("failing test test_squares")
        page.wait_for_selector("#learning-studio-tutor .ls-tutor-state[data-state='answering']",
                               timeout=60_000)
        partial = panel.locator(".ls-tutor-answer").last.inner_text()
        shot(page, "20-tutor-streaming")
        expect(panel.locator(".ls-tutor-state")).to_have_attribute("data-state", "idle",
                                                                   timeout=60_000)
        answer = panel.locator(".ls-tutor-answer").last.inner_text()
        assert answer.strip() == TUTOR_ANSWER.strip()
        assert len(partial) < len(answer)  # seen while it was still being written
        shot(page, "21-tutor-answered")
        # what went to the model: maria's code, the failing test and its error; no hidden
        # test, no solution
        sent = json.dumps(ai.requests[asked]["body"]["messages"])
        assert "range(n)" in sent and "assert squares(3) == [1, 4, 9]" in sent
        assert "AssertionError" in sent
        assert "HIDDEN-MARKER" not in sent and "range(1, n + 1)" not in sent

        # a follow-up question, in the same conversation
        ai.replies, ai.chunk_delay = [TUTOR_FOLLOW_UP], 0.0
        panel.locator(".ls-tutor-input").fill("Is my range wrong?")
        panel.locator(".ls-tutor-ask").click()
        expect(panel.locator(".ls-tutor-answer")).to_have_count(2)
        expect(panel.locator(".ls-tutor-answer").last).to_contain_text(
            "where range starts", timeout=60_000)
        sent = json.dumps(ai.requests[-1]["body"]["messages"])
        assert "Is my range wrong?" in sent and "Which Python tool" in sent

        # a model that gives the answer away: withdrawn, and written again without it
        ai.replies = [TUTOR_LEAK, TUTOR_FOLLOW_UP]
        panel.locator(".ls-tutor-input").fill("Just show me the code please")
        panel.locator(".ls-tutor-ask").click()
        expect(panel.locator(".ls-tutor-notice")).to_contain_text("too close to the solution",
                                                                  timeout=60_000)
        expect(panel.locator(".ls-tutor-state")).to_have_attribute("data-state", "idle",
                                                                   timeout=60_000)
        expect(panel.locator(".ls-tutor-answer").last).to_contain_text("where range starts")
        assert "range(1, n + 1)" not in panel.inner_text()
        shot(page, "22-tutor-withdrawn")

        # an error in the answer cell, run by hand: "Explain this error" under the cell
        ai.replies = [TUTOR_FOLLOW_UP]
        answer_cell = page.locator(".jp-Cell", has_text="def squares(n)").first
        set_answer(page, "def squares(n):\n    return [i * i for i in rnage(1, n + 1)]\n"
                   "squares(3)", cell=answer_cell)
        page.keyboard.press("Shift+Enter")
        answer_cell.locator(".ls-tutor-cell-error .ls-tutor-explain").click(timeout=60_000)
        expect(panel.locator(".ls-tutor-about")).to_contain_text("your cell raised an error")
        expect(panel.locator(".ls-tutor-question").last).to_have_text("Explain the error.")
        expect(panel.locator(".ls-tutor-answer")).to_have_count(4)
        expect(panel.locator(".ls-tutor-answer").last).to_contain_text(
            "where range starts", timeout=60_000)
        sent = json.dumps(ai.requests[-1]["body"]["messages"])
        assert "NameError" in sent and "rnage" in sent

        # the learner's own fix: Check passes, Submit, the grade
        set_answer(page, "def squares(n):\n    return [i * i for i in range(1, n + 1)]",
                   cell=page.locator(".jp-Cell", has_text="def squares(n)").first)
        page.locator(".jp-NotebookPanel .ls-check").first.click()
        page.wait_for_selector(".ls-test-badge[data-result='passed']", timeout=120_000)
        page.locator(".jp-NotebookPanel .ls-submit").first.click()
        page.click(".jp-Dialog button:has-text('Submit')")
        page.wait_for_selector(".ls-Feedback .ls-cells", timeout=300_000)
        assert "passed" in page.inner_text(".ls-Feedback")
        shot(page, "23-tutor-journey-graded")
    except Exception:
        shot(page, "failure-tutor")
        raise
    finally:
        context.close()


# a GET as JupyterLab's own ServerConnection sends it (cookie + X-XSRFToken)
FETCH_AS_LAB = """async (u) => {
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
  const r = await fetch(u, {headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
  return [r.status, await r.text()];
}"""


def test_second_learner_cannot_see_the_first_ones_work(e2e, joan_submission, browser):
    stack = e2e["stack"]
    sub_id = joan_submission
    context, page = login(browser, stack, "grace")
    try:
        open_courses(page)
        squares = page.locator(".ls-assignment[data-assignment='squares']")
        assert "new" in squares.locator(".ls-status").inner_text()  # joan's grade is not hers
        assert squares.locator("button[data-action='Feedback']").count() == 0
        # her server asks the grader for joan's submission and feedback: not found
        # (fetch() from the page: the browser resolves *.localhost, Playwright's node side not)
        base = page.url.split("/lab")[0]
        for path in (f"learning-studio/submissions/{sub_id}",
                     f"learning-studio/submissions/{sub_id}/feedback/squares",
                     f"learning-studio/courses/{COURSE}/assignments/squares/grades.csv",
                     f"learning-studio/courses/{COURSE}/assignments/squares/statistics",
                     f"learning-studio/courses/{COURSE}/storage"):
            status, body = page.evaluate(FETCH_AS_LAB, f"{base}/{path}")
            assert status in (403, 404), (path, status, body)
        # the same call for her own data works: the refusals above are the grader's
        status, body = page.evaluate(FETCH_AS_LAB, f"{base}/learning-studio/courses")
        assert status == 200 and COURSE in body
        out = stack.container("grace").exec_run(["ls", "-R", "/home/learner"]).output.decode()
        assert "squares" not in out
        shot(page, "09-second-learner")
    except Exception:
        shot(page, "failure-second-learner")
        raise
    finally:
        context.close()


def test_learner_opens_a_lesson_from_the_grader(e2e, browser):
    stack = e2e["stack"]
    context, page = login(browser, stack, "grace")
    try:
        open_courses(page)
        course = page.locator(f".ls-course[data-course='{COURSE}']")
        lesson = course.locator(".ls-lessons button[data-lesson='01-values-and-types']")
        assert lesson.get_attribute("data-source") == "grader"
        lesson.click()
        page.wait_for_selector(".lm-TabBar-tab.jp-mod-current:has-text('01-values-and-types')")
        # the lesson's own text, rendered
        page.wait_for_selector(".jp-NotebookPanel:visible .jp-MarkdownOutput "
                               "h1:has-text('1. Values and types')", timeout=60_000)
        # a reading notebook: no Check / Submit there
        assert page.locator(".jp-NotebookPanel:visible .ls-submit").count() == 0
        shot(page, "16-lesson-opened")
        path = f"/home/learner/courses/{COURSE}/lessons/01-values-and-types.ipynb"
        got = stack.container("grace").exec_run(["cat", path]).output
        assert got == (REPO / "courses" / COURSE / "lessons" / "01-values-and-types.ipynb"
                       ).read_bytes()
    except Exception:
        shot(page, "failure-lesson")
        raise
    finally:
        context.close()


# writes a notebook into the instructor's own server through its contents API
PUT_CONTENTS = """async ([u, body]) => {
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
  const r = await fetch(u, {method: 'PUT', body: JSON.stringify(body),
    headers: {'X-XSRFToken': decodeURIComponent(xsrf), 'Content-Type': 'application/json'}});
  return r.status;
}"""


GET_JSON = """async (u) => {
  const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
  const r = await fetch(u, {headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
  return await r.json();
}"""


def test_instructor_releases_from_a_folder_and_grades_a_cell(e2e, joan_submission, browser):
    stack = e2e["stack"]
    sub_id = joan_submission
    context, page = login(browser, stack, "ada")
    try:
        base = page.url.split("/lab")[0]
        folder = f"courses/{COURSE}/source/cubes"
        for part in ("courses", f"courses/{COURSE}", f"courses/{COURSE}/source", folder):
            status = page.evaluate(PUT_CONTENTS, [f"{base}/api/contents/{part}",
                                                  {"type": "directory"}])
            assert status in (200, 201), (part, status)
        # the test cell arrives unmarked: the instructor marks it from the cell menu
        nb = json.loads(hinted_source())
        for cell in nb["cells"]:
            if cell["metadata"]["nbgrader"]["grade_id"] == "test_squares":
                del cell["metadata"]["nbgrader"]
        status = page.evaluate(PUT_CONTENTS, [f"{base}/api/contents/{folder}/cubes.ipynb",
                                              {"type": "notebook", "format": "json",
                                               "content": nb}])
        assert status in (200, 201)
        page.goto(f"{base}/lab/tree/{folder}/cubes.ipynb")
        page.wait_for_selector(".jp-NotebookPanel .jp-Cell")
        # an instructor's source notebook is not an assignment to submit
        assert page.locator(".jp-NotebookPanel .ls-submit").count() == 0
        # every graded cell carries a badge with its nbgrader role
        solution_cell = page.locator(".jp-Cell", has_text="def squares(n)").first
        expect(solution_cell.locator(".ls-cell-kind")).to_have_text("solution")
        manual_cell = page.locator(".jp-Cell", has_text="Squares grow fast").first
        expect(manual_cell.locator(".ls-cell-kind")).to_have_text("manual 1 pt")
        test_cell = page.locator(".jp-Cell", has_text="assert squares(3)").first
        assert test_cell.locator(".ls-cell-kind").count() == 0  # unmarked: no badge
        # select its first line and wrap it in a hidden-tests region from the cell toolbar
        test_cell.locator(".cm-line").first.click()
        page.keyboard.press("Home")
        page.keyboard.press("Shift+End")
        test_cell.locator(".jp-cell-toolbar [data-command='learning-studio:wrap-hidden-tests']"
                          ).click()
        # nbgrader needs hidden tests in a test cell: marked as one (1 point), badge follows
        test_cell = page.locator(".jp-Cell", has_text="assert squares(3)").first
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell .ls-cell-kind')]"
            ".some(b => b.textContent === 'tests 1 pt')")
        shot(page, "10a-hidden-tests-wrapped")
        test_cell.locator(".jp-InputPrompt").click()
        test_cell.locator(".jp-InputPrompt").click(button="right")
        # the cell menu has both region commands too
        assert page.locator(".lm-Menu-itemLabel:has-text('Grading: Wrap in a solution region')"
                            ).count() == 1
        page.click(".lm-Menu-itemLabel:has-text('Grading: Autograded test (with points)')")
        page.fill(".jp-Dialog input[type=number]", "2")
        page.click(".jp-Dialog .jp-mod-accept")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Cell .ls-cell-kind')]"
            ".some(b => b.textContent === 'tests 2 pts')")
        page.keyboard.press("Control+s")
        shot(page, "10b-cell-marked-as-test")
        marks = [{}]
        for _ in range(50):
            # read while the save may still be writing: retry until the marks are there
            saved = page.evaluate(GET_JSON, f"{base}/api/contents/{folder}/cubes.ipynb")
            if saved.get("content"):
                marks = [c["metadata"].get("nbgrader", {}) for c in saved["content"]["cells"]
                         if "assert squares(3)" in c["source"]]
                if marks[0].get("grade"):
                    break
            page.wait_for_timeout(200)
        assert marks[0]["grade"] is True and marks[0]["locked"] is True
        assert marks[0]["points"] == 2 and marks[0]["schema_version"] == 3
        test_source = next("".join(c["source"]) for c in saved["content"]["cells"]
                           if "assert squares(3)" in "".join(c["source"]))
        assert test_source.startswith(
            "### BEGIN HIDDEN TESTS\nassert squares(3) == [1, 4, 9]\n### END HIDDEN TESTS\n")

        open_courses(page)
        course = page.locator(f".ls-course[data-course='{COURSE}']")
        assert "instructor" in course.inner_text()
        course.locator("button[data-action='Release an assignment…']").click()
        page.fill(".ls-release-form input[name=assignment]", "cubes")
        assert page.input_value(".ls-release-form input[name=source]") == folder
        page.fill(".ls-release-form input[name=due_at]", "2031-06-01T12:00")
        page.fill(".ls-release-form input[name=max_submissions]", "2")
        shot(page, "10-release-form")
        page.click(".jp-Dialog button:has-text('Release')")
        page.wait_for_selector(".jp-Dialog:has-text('Released cubes')", timeout=60_000)
        shot(page, "11-released")
        page.keyboard.press("Escape")
        cubes = course.locator(".ls-assignment[data-assignment='cubes']")
        cubes.wait_for(timeout=30_000)
        assert "2031" in cubes.inner_text()
        # the grader really has it, for learners too
        alan = {"Authorization": f"token {stack.user_token('alan')}"}
        listed = requests.get(f"{e2e['grader']}/courses/{COURSE}/assignments",
                              headers=alan).json()
        cube = next(a for a in listed if a["assignment"] == "cubes")
        assert cube["max_submissions"] == 2 and cube["due_at"].startswith("2031-06-01")
        # 2 points from the cell marked in the browser + 1 for the written answer
        assert cube["max_score"] == 3

        # the submissions table: joan's graded attempt (the last row); grade her answer
        squares = course.locator(".ls-assignment[data-assignment='squares']")
        squares.locator("button[data-action='Submissions']").click()
        page.wait_for_selector(".ls-Feedback .ls-history td:has-text('joan')")
        # joan's row, whoever else submitted before (other tests' learners do)
        page.click(f".ls-Feedback .ls-history tr[data-submission='{sub_id}'] "
                   "button:has-text('Show')")
        page.wait_for_selector(".ls-Feedback .ls-cells button.ls-grade[data-cell='explain']")
        shot(page, "12-submissions-table")
        page.click(".ls-cells button.ls-grade[data-cell='explain']")
        page.fill(".jp-Dialog input[name=score]", "1")
        page.fill(".jp-Dialog textarea[name=comment]", "Clear explanation.")
        page.click(".jp-Dialog button:has-text('Save grade')")
        page.wait_for_selector(".ls-cells td:has-text('Clear explanation.')", timeout=30_000)
        page.wait_for_selector(f".ls-history tr[data-submission='{sub_id}'] td:has-text('3/3')",
                               timeout=30_000)
        shot(page, "13-manually-graded")
        joan = {"Authorization": f"token {stack.user_token('joan')}"}
        mine = requests.get(f"{e2e['grader']}/submissions/{sub_id}", headers=joan).json()
        assert mine["score"] == 3 and mine["needs_manual_grade"] is False
    except Exception:
        shot(page, "failure-instructor")
        raise
    finally:
        context.close()


def test_instructor_sees_statistics_and_exports_csv(e2e, joan_submission, browser):
    stack = e2e["stack"]
    context, page = login(browser, stack, "ada")
    try:
        open_courses(page)
        squares = page.locator(f".ls-course[data-course='{COURSE}'] "
                               ".ls-assignment[data-assignment='squares']")
        squares.locator("button[data-action='Submissions']").click()
        page.wait_for_selector(".ls-Feedback .ls-stats .ls-histogram", timeout=60_000)
        # the same numbers as the grader's own statistics, drawn as bars
        ada = {"Authorization": f"token {stack.user_token('ada')}"}
        stats = requests.get(f"{e2e['grader']}/courses/{COURSE}/assignments/squares/statistics",
                             headers=ada, timeout=30).json()
        assert stats["learners"] >= 1  # joan, and alan if his journey ran first
        bars = page.locator(".ls-histogram rect.ls-bar")
        assert bars.count() == len(stats["histogram"]["counts"])
        drawn = [int(bars.nth(i).get_attribute("data-count")) for i in range(bars.count())]
        assert drawn == stats["histogram"]["counts"] and sum(drawn) == stats["learners"]
        heights = [float(bars.nth(i).get_attribute("height")) for i in range(bars.count())]
        assert all((h > 0) == (c > 0) for h, c in zip(heights, drawn, strict=True))
        rows = page.locator(".ls-question-rates tbody tr")
        assert rows.count() == len(stats["cells"])
        test_row = page.locator(".ls-question-rates tr[data-cell='test_squares']")
        rate = next(c for c in stats["cells"] if c["cell_id"] == "test_squares")["success_rate"]
        assert float(test_row.locator(".ls-rate").get_attribute("data-rate")) == rate
        assert f"{round(rate * 100)}%" in test_row.inner_text()
        shot(page, "14-statistics")

        with page.expect_download() as info:
            page.click(".ls-Feedback button.ls-export-csv")
        download = info.value
        assert download.suggested_filename == f"{COURSE}-squares-grades.csv"
        text = Path(download.path()).read_text()
        (ARTIFACTS / "15-export.csv").write_text(text)
        lines = text.splitlines()
        assert lines[0].startswith("course,assignment,username,attempt,submitted_at,status")
        joan = next(line.split(",") for line in lines if ",joan," in line)
        assert joan[:3] == [COURSE, "squares", "joan"] and joan[5] == "graded"
        shot(page, "15-export")
    except Exception:
        shot(page, "failure-statistics")
        raise
    finally:
        context.close()


def test_learner_submitting_twice_quickly_is_told_when_to_submit_again(e2e, browser):
    """The grader takes one submission a minute here: the second Submit says in how many
    seconds the next one is taken (the grader's Retry-After, counting down), uploads
    nothing, and leaves the notebook as it was."""
    stack, grader = e2e["stack"], e2e["grader"]
    enrol(stack, "linus")
    context, page = login(browser, stack, "linus")
    try:
        open_courses(page)
        course = page.locator(f".ls-course[data-course='{COURSE}']")
        assert course.locator("button[data-action='Storage']").count() == 0  # instructors'
        course.locator(".ls-assignment[data-assignment='squares'] "
                       "button[data-action='Fetch']").click()
        page.wait_for_selector(".jp-NotebookPanel .ls-submit", timeout=60_000)
        notebook = page.locator(".jp-NotebookPanel:visible").first
        panel_id = notebook.get_attribute("id")
        answer = "def squares(n):\n    return [i * i for i in range(1, n + 1)]"
        set_answer(page, answer)
        submit = page.locator(f"#{panel_id} .ls-submit")
        submit.click()
        page.click(".jp-Dialog button:has-text('Submit')")
        page.wait_for_selector("text=grading…", timeout=60_000)
        # and at once again, as a learner who is not sure it worked (back on the notebook's
        # tab, in case a quick grade already opened the Feedback view)
        page.click(".lm-TabBar-tab:has-text('squares.ipynb')")
        submit.click()
        page.click(".jp-Dialog button:has-text('Submit')")
        dialog = page.locator(".jp-Dialog", has=page.locator(".ls-rate-limit"))
        dialog.wait_for(timeout=60_000)
        assert "Too many submissions for now" in dialog.inner_text()
        wait_text = dialog.locator(".ls-retry-after").inner_text()
        m = re.fullmatch(r"You can submit again in (\d+) seconds?\.", wait_text)
        assert m, wait_text
        first = int(m.group(1))
        assert 1 <= first <= 61, first  # within the grader's minute
        assert "not uploaded" in dialog.inner_text()
        assert "Error" not in dialog.inner_text() and "TooManyRequests" not in dialog.inner_text()
        shot(page, "17-submit-rate-limit")
        # it counts down
        page.wait_for_timeout(2500)
        later = int(re.search(r"in (\d+) second", dialog.locator(".ls-retry-after")
                              .inner_text()).group(1))
        assert later <= first - 2, (first, later)
        dialog.locator("button:has-text('OK')").click()
        dialog.wait_for(state="detached")

        # nothing lost: the notebook is still open with the answer, which Submit saved
        # before it asked the grader; the grader has the first submission only
        assert page.locator(f"#{panel_id}").count() == 1
        assert "return [i * i for i in range(1, n + 1)]" in page.locator(
            f"#{panel_id} .jp-Cell", has_text="def squares").first.inner_text()
        saved = stack.container("linus").exec_run(
            ["cat", f"/home/learner/courses/{COURSE}/squares/squares.ipynb"]).output.decode()
        assert "return [i * i for i in range(1, n + 1)]" in saved
        linus = {"Authorization": f"token {stack.user_token('linus')}"}
        subs = requests.get(f"{grader}/courses/{COURSE}/assignments/squares/submissions",
                            headers=linus, timeout=30).json()
        assert len(subs) == 1, subs
    except Exception:
        shot(page, "failure-rate-limit")
        raise
    finally:
        context.close()


def test_instructor_sees_the_courses_storage(e2e, joan_submission, browser):
    """The Storage view shows the grader's numbers for the course: by kind, with what is
    kept for how long, and by assignment."""
    stack, grader = e2e["stack"], e2e["grader"]
    context, page = login(browser, stack, "ada")
    try:
        open_courses(page)
        course = page.locator(f".ls-course[data-course='{COURSE}']")
        course.locator("button[data-action='Storage']").click()
        view = page.locator(".jp-Dialog .ls-storage")
        view.wait_for(timeout=60_000)
        ada = {"Authorization": f"token {stack.user_token('ada')}"}
        usage = requests.get(f"{grader}/courses/{COURSE}/storage", headers=ada,
                             timeout=30).json()
        total = view.locator(".ls-storage-total")
        assert int(total.get_attribute("data-bytes")) == usage["total_bytes"] > 0
        for kind, numbers in usage["kinds"].items():
            row = view.locator(f".ls-storage-kinds tr[data-kind='{kind}']")
            assert int(row.locator("td[data-count]").get_attribute("data-count")) == \
                numbers["count"], kind
            size = row.locator("td[data-bytes]")
            assert int(size.get_attribute("data-bytes")) == numbers["bytes"], kind
            assert int(size.get_attribute("data-files")) == numbers["files"], kind
            assert row.locator("td[data-kept]").inner_text() == usage["kept"][kind]
        assert usage["kinds"]["feedback"]["count"] >= 1  # joan's graded submission
        assert usage["kinds"]["lessons"]["count"] == 10
        squares = next(a for a in usage["assignments"] if a["assignment"] == "squares")
        row = view.locator(".ls-storage-assignments tr[data-assignment='squares']")
        assert int(row.locator("td[data-bytes]").last.get_attribute("data-bytes")) == \
            squares["total_bytes"]
        assert "removed once they are 24 h old, checked every 1 h" in view.inner_text()
        shot(page, "18-course-storage")
    except Exception:
        shot(page, "failure-storage")
        raise
    finally:
        context.close()
