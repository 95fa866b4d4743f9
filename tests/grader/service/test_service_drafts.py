"""AI drafts in the grader (grader.service.drafts) against the local OpenAI-compatible
server, through the real openai client: an exercise becomes an nbgrader source notebook
and a lesson a lesson notebook; unusable answers are refused with nothing stored; only the
course's instructors can ask for, list, read or delete drafts (everyone else: 404)."""

from __future__ import annotations

import ast
import copy
import json

import nbformat
import pytest
from fake_ai import FakeOpenAIServer
from service_support import start_hub, stop_hub

from grader.engine.release import release_notebook
from grader.service.config import GraderSettings
from grader.service.drafts import AIEndpointFailed, AIOffError, DraftRefused
from grader.service.errors import InvalidRequest, NotFound
from grader.service.gradebook import open_gradebook
from grader.service.permissions import OPERATOR, Person

pytestmark = pytest.mark.timeout(120)

COURSE = "algo"
PROF = Person("prof", frozenset({f"instructors:{COURSE}"}))
ANN = Person("ann", frozenset({f"learners:{COURSE}"}))
OTHER_PROF = Person("olga", frozenset({"instructors:other"}))

EXERCISE = {
    "title": "Squares of numbers",
    "introduction": "You practise **lists** and `range`.",
    "setup_code": "import math",
    "parts": [
        {"name": "Squares", "instructions": "Write `squares(n)`: the squares of 1..n.",
         "solution": 'def squares(n):\n    """The squares of 1..n."""\n'
                     "    return [i * i for i in range(1, n + 1)]",
         "tests": "assert squares(3) == [1, 4, 9]",
         "hidden_tests": "assert squares(0) == []  # HIDDEN-SQ",
         "points": 3, "hints": ["range(1, n + 1) counts from 1 to n.", "  "]},
        {"name": "Hypotenuse", "instructions": "Write `hyp(a, b)`.",
         "solution": "def hyp(a, b): return math.sqrt(a * a + b * b)",
         "tests": "assert hyp(3, 4) == 5",
         "hidden_tests": "assert hyp(5, 12) == 13  # HIDDEN-HYP",
         "points": 2, "hints": []},
    ],
}

LESSON = {
    "title": "Loops",
    "introduction": "Doing a thing many times.",
    "sections": [
        {"heading": "for", "text": "A `for` loop visits each item.",
         "code": "for word in ['a', 'b']:\n    print(word)"},
        {"heading": "while", "text": "A `while` loop runs while its condition holds.",
         "code": ""},
    ],
    "summary": "- for visits items\n- while checks a condition",
}


@pytest.fixture
def ai():
    with FakeOpenAIServer() as server:
        yield server


def make_book(db_url, tmp_path, base_url: str = ""):
    settings = GraderSettings(database_url=db_url, blob_dir=str(tmp_path / "blobs"),
                              openai_base_url=base_url, openai_model="tiny-local",
                              ai_timeout=5.0)
    return open_gradebook(settings, upgrade=True)


@pytest.fixture
def book(db_url, tmp_path, ai):
    book = make_book(db_url, tmp_path, ai.base_url)
    book.courses.create(OPERATOR, COURSE, "Algorithms")
    book.courses.create(OPERATOR, "other", "Other")
    yield book
    book.sessions.kw["bind"].dispose()


def by_id(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


async def test_an_exercise_becomes_an_nbgrader_source_notebook(book, ai):
    ai.reply = EXERCISE
    out = await book.drafts.draft(PROF, COURSE, {
        "kind": "exercise", "topic": "lists of squares", "assignment": "ps-squares",
        "options": {"parts": 2, "level": "beginners"}})
    assert out["kind"] == "exercise" and out["name"] == "ps-squares.ipynb"
    assert out["title"] == "Squares of numbers" and out["model"] == "tiny-local"
    assert out["created_by"] == "prof"
    # what the model was asked: the topic and options, JSON wanted
    sent = ai.requests[-1]["body"]
    assert sent["response_format"] == {"type": "json_object"} and sent["model"] == "tiny-local"
    assert "lists of squares" in sent["messages"][1]["content"]
    assert "Number of parts: 2" in sent["messages"][1]["content"]
    assert "hidden_tests" in sent["messages"][0]["content"]

    nb = nbformat.reads(json.dumps(out["notebook"]), as_version=4)
    nbformat.validate(nb)
    solution = by_id(nb, "squares")
    assert solution.metadata.nbgrader["solution"] is True
    # a one-function solution keeps its signature and docstring outside the region
    assert solution.source.startswith('def squares(n):\n    """The squares of 1..n."""\n'
                                      "    ### BEGIN SOLUTION\n")
    assert solution.source.endswith("    ### END SOLUTION")
    assert solution.metadata.learning_studio == {"hints": ["range(1, n + 1) counts from 1 to n."]}
    tests = by_id(nb, "squares-tests")
    assert tests.metadata.nbgrader["grade"] and tests.metadata.nbgrader["locked"]
    assert tests.metadata.nbgrader["points"] == 3.0
    assert tests.source == ("assert squares(3) == [1, 4, 9]\n### BEGIN HIDDEN TESTS\n"
                            "assert squares(0) == []  # HIDDEN-SQ\n### END HIDDEN TESTS")
    # a one-line function cannot keep its header: the whole solution is the region
    assert by_id(nb, "hypotenuse").source.startswith("### BEGIN SOLUTION\ndef hyp(a, b)")
    assert by_id(nb, "hypotenuse-tests").metadata.nbgrader["points"] == 2.0
    assert "learning_studio" not in by_id(nb, "hypotenuse").metadata
    assert by_id(nb, "ps-squares-setup").source == "import math"

    # nbgrader's own pipeline makes a student version without solutions or hidden tests
    student = json.dumps(release_notebook(copy.deepcopy(nb), "ps-squares", "ps-squares",
                                          ".").student)
    assert "HIDDEN-SQ" not in student and "HIDDEN-HYP" not in student
    assert "range(1, n + 1)]" not in student and "NotImplementedError" in student

    listed = book.drafts.listing(PROF, COURSE)
    assert [d["id"] for d in listed] == [out["id"]] and "notebook" not in listed[0]
    assert listed[0]["request"] == {"topic": "lists of squares",
                                    "options": {"parts": 2, "level": "beginners"}}
    assert book.drafts.get(PROF, COURSE, out["id"])["notebook"] == out["notebook"]
    book.drafts.delete(PROF, COURSE, out["id"])
    assert book.drafts.listing(PROF, COURSE) == []
    with pytest.raises(NotFound):
        book.drafts.get(PROF, COURSE, out["id"])


async def test_a_lesson_outline_becomes_a_lesson_notebook(book, ai):
    ai.reply = "```json\n" + json.dumps(LESSON) + "\n```"  # fenced, as models like to
    out = await book.drafts.draft(PROF, COURSE, {
        "kind": "lesson", "outline": "for loops\nwhile loops", "assignment": "03-loops"})
    assert out["kind"] == "lesson" and out["name"] == "03-loops.ipynb"
    assert "for loops\nwhile loops" in ai.requests[-1]["body"]["messages"][1]["content"]
    nb = nbformat.reads(json.dumps(out["notebook"]), as_version=4)
    nbformat.validate(nb)
    assert [c.cell_type for c in nb.cells] == ["markdown", "markdown", "markdown", "code",
                                               "markdown", "markdown"]
    assert nb.cells[0].source == "# Loops"
    assert nb.cells[2].source.startswith("## for\n\nA `for` loop")
    assert nb.cells[3].source == "for word in ['a', 'b']:\n    print(word)"
    assert nb.cells[-1].source.startswith("## Summary")
    # a lesson is not graded: no nbgrader metadata, like courses/<course>/lessons/
    assert not any("nbgrader" in c.metadata for c in nb.cells)
    assert nb.metadata.kernelspec["name"] == "python3"


def broken(**changes) -> dict:
    data = copy.deepcopy(EXERCISE)
    for key, value in changes.items():
        if value is None:
            data["parts"][0].pop(key)
        else:
            data["parts"][0][key] = value
    return data


@pytest.mark.parametrize("reply, says", [
    ("Sure! Here is an exercise about squares.", "not the JSON object that was asked for"),
    ("[1, 2, 3]", "not a JSON object"),
    ({"title": "No parts"}, 'no "parts"'),
    (broken(hidden_tests=None), "no part 1's 'hidden_tests'"),
    (broken(tests="   "), "no part 1's 'tests'"),
    (broken(tests="print(squares(3))"), "visible tests of part 1 assert nothing"),
    (broken(solution="def squares(n)\n    return n"), "solution of part 1 is not valid Python (line 1"),
    (broken(hidden_tests="assert squares(0) ==="), "hidden tests of part 1 is not valid Python"),
    (broken(solution="### BEGIN SOLUTION\nx = 1\n### END SOLUTION"), "nbgrader markers"),
    (broken(points=0), "points 0"),
    (broken(points="lots"), "points 'lots'"),
    (broken(hints="just one"), "hints are not a list of text"),
    ({**EXERCISE, "setup_code": "import (math"}, "setup code is not valid Python"),
])
async def test_unusable_answers_are_refused_and_nothing_is_stored(book, ai, reply, says):
    ai.reply = reply
    with pytest.raises(DraftRefused) as refused:
        await book.drafts.draft(PROF, COURSE, {"kind": "exercise", "topic": "squares",
                                               "assignment": "ps1"})
    assert says in refused.value.message
    assert "nothing was stored" in refused.value.message and refused.value.status == 422
    assert book.drafts.listing(PROF, COURSE) == []


async def test_a_lesson_with_broken_code_is_refused(book, ai):
    lesson = copy.deepcopy(LESSON)
    lesson["sections"][0]["code"] = "for word in:\n    print(word)"
    ai.reply = lesson
    with pytest.raises(DraftRefused, match="code example of section 1 is not valid Python"):
        await book.drafts.draft(PROF, COURSE, {"kind": "lesson", "outline": "loops",
                                               "assignment": "03-loops"})
    assert book.drafts.listing(PROF, COURSE) == []


@pytest.mark.parametrize("person", [ANN, OTHER_PROF, Person("eve")],
                         ids=["learner", "other-course-instructor", "stranger"])
async def test_only_the_courses_instructors_reach_its_drafts(book, ai, person):
    ai.reply = EXERCISE
    mine = await book.drafts.draft(PROF, COURSE, {"topic": "squares", "assignment": "ps1"})
    asked = len(ai.requests)
    with pytest.raises(NotFound):
        await book.drafts.draft(person, COURSE, {"topic": "squares", "assignment": "ps1"})
    assert len(ai.requests) == asked  # refused before the model is asked (and paid)
    for call in (lambda: book.drafts.listing(person, COURSE),
                 lambda: book.drafts.get(person, COURSE, mine["id"]),
                 lambda: book.drafts.delete(person, COURSE, mine["id"])):
        with pytest.raises(NotFound) as missing:
            call()
        assert "solution" not in missing.value.message
    assert book.drafts.get(PROF, COURSE, mine["id"])["id"] == mine["id"]
    # a draft of one course is not found through another the person teaches
    teaches_both = Person("tom", frozenset({f"instructors:{COURSE}", "instructors:other"}))
    with pytest.raises(NotFound):
        book.drafts.get(teaches_both, "other", mine["id"])
    assert book.drafts.get(OPERATOR, COURSE, mine["id"])["id"] == mine["id"]


@pytest.mark.parametrize("body, says", [
    ({"kind": "quiz", "topic": "x", "assignment": "ps1"}, 'kind must be "exercise" or "lesson"'),
    ({"kind": "exercise", "assignment": "ps1"}, "give the topic of the exercise"),
    ({"kind": "lesson", "assignment": "l1"}, "give the outline of the lesson"),
    ({"topic": "x" * 4001, "assignment": "ps1"}, "longer than 4000"),
    ({"topic": "x", "assignment": "../etc"}, "assignment"),
    ({"topic": "x", "assignment": "ps1", "name": "a/b"}, "notebook name"),
    ({"topic": "x", "assignment": "ps1", "options": {"parts": 9}}, "options.parts"),
    ({"topic": "x", "assignment": "ps1", "options": []}, "options must be a JSON object"),
])
async def test_bad_requests_are_named_before_the_model_is_asked(book, ai, body, says):
    with pytest.raises(InvalidRequest) as bad:
        await book.drafts.draft(PROF, COURSE, body)
    assert says in bad.value.message
    assert ai.requests == []


async def test_endpoint_failures_store_nothing(book, ai):
    for mode in ("error500", "malformed", "empty"):
        ai.mode = mode
        with pytest.raises(AIEndpointFailed) as failed:
            await book.drafts.draft(PROF, COURSE, {"topic": "squares", "assignment": "ps1"})
        assert failed.value.status == 503 and "Nothing was stored" in failed.value.message
    assert book.drafts.listing(PROF, COURSE) == []


async def test_ai_off_says_how_to_turn_it_on(db_url, tmp_path):
    book = make_book(db_url, tmp_path, base_url="")
    try:
        book.courses.create(OPERATOR, COURSE, "Algorithms")
        with pytest.raises(AIOffError) as off:
            await book.drafts.draft(PROF, COURSE, {"topic": "squares", "assignment": "ps1"})
        assert off.value.status == 503
        assert "OPENAI_API_KEY" in off.value.message and "OPENAI_BASE_URL" in off.value.message
    finally:
        book.sessions.kw["bind"].dispose()


def test_solution_regions_are_valid_python_in_every_shape():
    from grader.service.drafts import solution_source

    shapes = [
        "def f(x):\n    return x",
        'def f(x):\n    """Doc."""\n    y = x\n    return y',
        'def f(x):\n    """Only a docstring."""',
        "async def f():\n    return 1",
        "x = 1\ny = 2",
        "class A:\n    pass",
        "def f(x): return x",
    ]
    for code in shapes:
        wrapped = solution_source(code)
        ast.parse(wrapped)
        assert "### BEGIN SOLUTION" in wrapped and "### END SOLUTION" in wrapped
        assert code.replace("\n", "").replace(" ", "") in \
            "".join(line for line in wrapped.split("\n") if "###" not in line).replace(" ", "")


# ---- over HTTP, through a real hub (tokens, roles, status codes) ------------------------


@pytest.fixture(scope="module")
def ai_hub(tmp_path_factory):
    with FakeOpenAIServer() as server:
        config = ("c.GraderSettings.worker_count = 0\n"
                  "c.GraderSettings.check_releases = False\n"
                  "c.GraderSettings.user_cache_seconds = 1\n")
        proc, hub = start_hub(tmp_path_factory.mktemp("drafts-hub"), config,
                              {"OPENAI_BASE_URL": server.base_url,
                               "OPENAI_MODEL": "tiny-local"})
        hub.user("prof", groups=("instructors", f"instructors:{COURSE}"))
        hub.user("ann", groups=(f"learners:{COURSE}",))
        hub.user("olga", groups=("instructors", "instructors:other"))
        prof = hub.client(hub.token("prof"))
        for slug in (COURSE, "other"):
            r = prof.post(f"{hub.grader}/courses", json={"slug": slug})
            assert r.status_code == 201, r.text
        try:
            yield hub, server
        finally:
            stop_hub(proc)


def test_drafts_over_http(ai_hub):
    hub, server = ai_hub
    prof = hub.client(hub.token("prof"))
    ann = hub.client(hub.token("ann"))
    olga = hub.client(hub.token("olga"))
    url = f"{hub.grader}/courses/{COURSE}/drafts"
    server.reply = EXERCISE
    r = prof.post(url, json={"kind": "exercise", "topic": "squares", "assignment": "ps-sq"})
    assert r.status_code == 201, r.text
    draft = r.json()
    assert "### BEGIN HIDDEN TESTS" in json.dumps(draft["notebook"])
    assert prof.get(url).json()[0]["id"] == draft["id"]
    assert prof.get(f"{url}/{draft['id']}").json()["notebook"] == draft["notebook"]
    for who in (ann, olga):
        for r in (who.get(url), who.get(f"{url}/{draft['id']}"),
                  who.post(url, json={"topic": "squares", "assignment": "ps-sq"}),
                  who.delete(f"{url}/{draft['id']}")):
            assert r.status_code == 404, r.text
            assert r.json()["error"]["code"] == "NotFound"
            assert "HIDDEN" not in r.text
    # an unusable answer: 422 with what was wrong, nothing stored
    server.reply = broken(hidden_tests=None)
    r = prof.post(url, json={"topic": "squares", "assignment": "ps-sq"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "DraftRefused"
    assert "hidden_tests" in r.json()["error"]["message"]
    r = prof.post(url, data="not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidRequest"
    assert len(prof.get(url).json()) == 1
    r = prof.delete(f"{url}/{draft['id']}")
    assert r.status_code == 204
    assert prof.get(url).json() == []
    doc = hub.client(None).get(f"{hub.grader}/openapi.json").json()
    assert set(doc["paths"]["/courses/{course}/drafts"]) == {"get", "post"}
    assert set(doc["paths"]["/courses/{course}/drafts/{draft_id}"]) == {"get", "delete"}
