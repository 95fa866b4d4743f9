"""Nothing hidden comes back to a learner: submissions that try every way we know to echo
what their kernel executed after the hidden tests.

Hidden tests run in the learner's kernel, so learner code that runs after them can read
them back: IPython's history, ``linecache``, the frames and arguments of a function the
hidden test calls, ``sys.last_traceback``, files handed to the next notebook, exceptions,
displays, display updates of earlier cells, widget state, execution counts. Each attack
below prints (or raises, displays, stores) the hidden test line in four encodings. Every
test checks both halves: the attack did get the hidden code out of the kernel (the
instructor's graded notebook holds it), and nothing a learner can reach (feedback HTML,
the learner view, messages, the CLI's JSON) holds any of it; the honest parts still score.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbfactory as f
import nbformat
import pytest
from conftest import engine_config

from grader.engine.autograde import autograde_async
from grader.engine.release import build_release
from grader.engine.sandbox import SandboxPool

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PREFIX = "ls-test-hidden-"
WORK_ROOT = "/tmp/ls-test-hidden-sandboxes"
HIDDEN_LINE = "assert squares(BASE)[-1] == 81"  # the reference assignment's hidden test
LITERAL = "squares(BASE)[-1] == 81"  # its distinctive part
ROOT = Path(__file__).resolve().parents[3]


def forms(text: str) -> list[str]:
    """The encodings the attacks use."""
    return [text, base64.b64encode(text.encode()).decode(), text[::-1], text.encode().hex()]


FORBIDDEN = forms(HIDDEN_LINE) + forms(LITERAL)

# The start of every attack's squares cell (it runs before the hidden tests). _forms finds
# the hidden line in whatever it stole (without spelling it out: the learner's own source is
# shown back to them) and encodes it.
PRELUDE = """import base64, sys
def _forms(stolen):
    lines = [l.strip() for l in str(stolen).splitlines()]
    secret = next(l for l in lines if l.startswith('assert squares(' + 'BASE'))
    return [secret, base64.b64encode(secret.encode()).decode(), secret[::-1],
            secret.encode().hex()]
def _emit(stolen):
    for form in _forms(stolen):
        print('LEAK', form)
"""
SQUARES = "def squares(n):\n    return [i * i for i in range(n)]\n"
TOTAL = "def total(path):\n    return sum(int(x) for x in open(path).read().split())\n"
HANDOFF = "open('/home/learner/handoff.txt', 'w').write(_i)"
SEND = ("k = get_ipython().kernel\n"
        "def _send(kind, content):\n"
        "    k.session.send(k.iopub_socket, kind, content, parent=k.get_parent())\n")

# name: (squares cell, cells added after the hidden test, problem2's total cell, expected
# score). Expected: visible 2 + hidden 1 + total 3 + partial 0.5, unless said otherwise.
ATTACKS: dict[str, tuple[str, list[str], str, float]] = {
    "history_In": (SQUARES, ["_emit('\\n'.join(In))"], TOTAL, 6.5),
    "history_underscore_i": (
        SQUARES, ["_emit(_i)\n_emit(_ih[-2])\n_emit(globals()['_i%d' % (len(_ih) - 2)])"],
        TOTAL, 6.5),
    "history_manager": (
        SQUARES, ["hm = get_ipython().history_manager\n"
                  "_emit('\\n'.join(hm.input_hist_raw))\n"
                  "_emit('\\n'.join(src for _, _, src in hm.get_range()))"], TOTAL, 6.5),
    "linecache": (
        SQUARES, ["import linecache\n"
                  "_emit(''.join(''.join(v[2]) for v in list(linecache.cache.values())\n"
                  "              if len(v) > 2 and v[2]))"], TOTAL, 6.5),
    # squares, called by the hidden test, reads its caller's code through the frame
    "caller_frame": (
        "import inspect, linecache\n_seen = []\n"
        "def squares(n):\n"
        "    caller = sys._getframe(1)\n"
        "    _seen.append(''.join(linecache.getlines(caller.f_code.co_filename)))\n"
        "    _seen.append(''.join(inspect.getframeinfo(caller, context=20).code_context or []))\n"
        "    return [i * i for i in range(n)]\n",
        ["_emit('\\n'.join(_seen))"], TOTAL, 6.5),
    # the arguments the hidden test passes (squares(BASE): 10) are hidden data too
    "recorded_arguments": (
        "_args = []\ndef squares(n):\n    _args.append(n)\n    return [i * i for i in range(n)]\n",
        ["print('ARGS', _args, base64.b64encode(repr(_args).encode()).decode())"], TOTAL, 6.5),
    "exception_message": (SQUARES, ["raise RuntimeError(' '.join(_forms(_i)))"], TOTAL, 6.5),
    "exception_class_name": (
        SQUARES, ["raise type('E' + _forms(_i)[3], (Exception,), {})('x')"], TOTAL, 6.5),
    "sys_last_traceback": (
        # squares(BASE) is wrong, so the hidden test fails (IndexError) and leaves a traceback
        "def squares(n):\n    return [] if n == 10 else [i * i for i in range(n)]\n",
        ["import traceback\n_emit(''.join(traceback.format_tb(sys.last_traceback)))\n"
         "_emit(''.join(traceback.format_exception(sys.last_value)))"], TOTAL, 5.5),
    "display_html": (
        SQUARES, ["from IPython.display import display, HTML, Markdown\n"
                  "for form in _forms(_i):\n"
                  "    display(HTML('<b>' + form + '</b>'))\n"
                  "    display(Markdown(form))\n"
                  "    display({'text/plain': form}, raw=True)\n"
                  "_forms(_i)"], TOTAL, 6.5),
    # an earlier cell's display (kept: it ran before the hidden tests) rewritten afterwards
    "update_earlier_display": (
        "from IPython.display import display\n_box = display('nothing yet', display_id=True)\n"
        + SQUARES, ["_box.update(_forms(_i)[3])"], TOTAL, 6.5),
    "widget_state": (
        SQUARES, ["from ipykernel.comm import Comm\n"
                  "Comm(target_name='jupyter.widget',\n"
                  "     data={'state': {'value': _forms(_i)[0]}, 'buffer_paths': []})"],
        TOTAL, 6.5),
    "execution_count": (
        SQUARES, [SEND + "_send('execute_result', {'data': {'text/plain': 'x'}, 'metadata': {},"
                  " 'execution_count': _forms(_i)[3]})"], TOTAL, 6.5),
    # a message the grader's client chokes on: its exception text must not carry the code
    "grader_exception": (
        SQUARES, [SEND + "_send('error', {'ename': _forms(_i), 'evalue': _forms(_i)[1],"
                  " 'traceback': 'x'})"], TOTAL, 6.5),
    # the first notebook saves the hidden code; the second (same sandbox) prints it
    "file_handoff": (SQUARES, [HANDOFF], PRELUDE + "_emit(open('/home/learner/handoff.txt')"
                     ".read())\n" + TOTAL, 6.5),
    # ... from the learner's function, called by a visible test that runs after them
    "later_visible_test": (
        SQUARES, [HANDOFF],
        PRELUDE + "def total(path):\n    _emit(open('/home/learner/handoff.txt').read())\n"
        "    return sum(int(x) for x in open(path).read().split())\n", 6.5),
    # ... or raised by it: the visible tests fail, and show no more than a builtin's name
    "later_test_raises": (
        SQUARES, [HANDOFF],
        PRELUDE + "def total(path):\n"
        "    raise type('E' + _forms(open('/home/learner/handoff.txt').read())[3],\n"
        "               (Exception,), {})(' '.join(_forms(open('/home/learner/handoff.txt')"
        ".read())))\n", 3.0),
}


def _config():
    c = engine_config(timeout=20)
    c.DockerSandbox.name_prefix = PREFIX
    c.DockerSandbox.work_root = WORK_ROOT
    c.DockerSandbox.mem_limit = "512m"
    c.SandboxPool.wall_timeout = 120
    return c


def _submission(student: Path, dest: Path, squares: str, extra: list[str], total: str) -> Path:
    answers = json.loads(json.dumps(f.CORRECT))
    answers["problem1"]["squares"] = PRELUDE + squares
    answers["problem2"]["total"] = total
    f.submission_from(student, dest, answers)
    p1 = f.read(dest / "problem1.ipynb")
    at = next(i for i, c in enumerate(p1.cells)
              if c.metadata.get("nbgrader", {}).get("grade_id") == "test_squares_hidden")
    p1.cells[at + 1:at + 1] = [nbformat.v4.new_code_cell(src) for src in extra]
    f.write(p1, dest / "problem1.ipynb")
    return dest


@pytest.fixture(scope="module")
def graded(tmp_path_factory, docker_client):
    tmp = tmp_path_factory.mktemp("hidden-leaks")
    source = f.reference_assignment(tmp / "source" / "ps1")
    build = build_release(source)
    student = tmp / "student"
    build.write_student_version(student)
    subs = {name: _submission(student, tmp / "subs" / name, *attack[:3])
            for name, attack in ATTACKS.items()}

    async def run():
        pool = SandboxPool(config=_config(), warm=2, concurrency=2)
        try:
            results = await asyncio.gather(*(
                autograde_async(build, subs[n], pool, config=_config()) for n in ATTACKS))
        finally:
            await pool.close()
        return dict(zip(ATTACKS, results, strict=True))

    results = asyncio.run(run())
    yield {"results": results, "source": source, "subs": subs, "docker": docker_client,
           "tmp": tmp}
    shutil.rmtree(tmp, ignore_errors=True)


def learner_texts(result) -> dict[str, str]:
    """Everything of a grading result a learner can reach, by where it is."""
    out = {"to_json": json.dumps(result.to_json()), "messages": "\n".join(result.messages)}
    for name, nb in result.notebooks.items():
        out[f"{name} feedback"] = html.unescape(nb.feedback_html)
        out[f"{name} learner view"] = json.dumps(nb.learner_notebook)
        out[f"{name} messages"] = "\n".join(nb.messages)
    return out


def leaks(texts: dict[str, str], forbidden=FORBIDDEN) -> list[tuple[str, str]]:
    return [(where, form) for where, text in texts.items() for form in forbidden
            if form in text]


def instructor_text(result) -> str:
    return "\n".join(json.dumps(nb.graded_notebook) for nb in result.notebooks.values()
                     if nb.graded_notebook)


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_the_attack_reads_the_hidden_test_but_the_learner_sees_none_of_it(graded, name):
    result = graded["results"][name]
    full = instructor_text(result)
    if name == "recorded_arguments":
        stolen = ["[3, 0, 10]", base64.b64encode(b"[3, 0, 10]").decode()]
        assert all(s in full for s in stolen), "the attack did not record the arguments"
        assert leaks(learner_texts(result), stolen + FORBIDDEN) == []
    else:
        if name == "grader_exception":
            # nbformat refuses the message, and its exception's text quotes it: the notebook
            # is stopped, and the instructor's notebook has that text as the cell's error
            messages = "\n".join(result.messages)
            assert "Execution stopped: an error in the grader (its details" in messages
        # the hidden code did come out of the kernel: the instructor's notebook holds it ...
        assert any(form in full for form in FORBIDDEN), f"{name}: the attack found nothing"
        # ... and nothing a learner can reach does
        assert leaks(learner_texts(result)) == []
    # the learner's honest work still counts
    assert result.score == ATTACKS[name][3], (result.to_json(), result.messages)
    assert result.max_score == 10.0


def _cells(result, notebook="problem1"):
    view = nbformat.reads(json.dumps(result.notebooks[notebook].learner_notebook),
                          as_version=4)
    return {c["metadata"].get("nbgrader", {}).get("grade_id") or f"#{i}": c
            for i, c in enumerate(view["cells"])}


def test_cells_before_the_hidden_tests_keep_their_outputs(graded):
    r = graded["results"]["update_earlier_display"]
    squares = _cells(r)["squares"]
    # as it was when the hidden tests started, though the executed notebook was rewritten
    assert "nothing yet" in json.dumps(squares["outputs"])
    graded_squares = next(c for c in r.notebooks["problem1"].graded_notebook["cells"]
                          if c["metadata"].get("nbgrader", {}).get("grade_id") == "squares")
    assert HIDDEN_LINE.encode().hex() in json.dumps(graded_squares["outputs"])
    assert "nothing yet" in r.notebooks["problem1"].feedback_html
    visible = _cells(r)["test_squares"]  # a visible test before the hidden one: as ever
    assert visible["outputs"][0]["text"] == "visible ok\n"


def test_cells_after_the_hidden_tests_are_withheld_and_say_why(graded):
    r = graded["results"]["exception_message"]
    cells = _cells(r)
    added = next(c for key, c in cells.items() if key.startswith("#") and
                 c["cell_type"] == "code")
    assert added["outputs"] == [] and added["execution_count"] is None
    assert "ran after hidden tests" in added["metadata"]["learner_view"]["withheld"]
    assert "Output withheld: this cell ran after hidden tests" in r.notebooks[
        "problem1"].feedback_html
    hidden = cells["test_squares_hidden"]
    assert hidden["outputs"] == [] and "BEGIN HIDDEN" not in hidden["source"]
    assert hidden["source"].startswith("assert squares(0) == []")
    assert "checksum" not in hidden["metadata"]["nbgrader"]  # it hashes the hidden code
    # the second notebook ran after them (same sandbox): all of it withheld, scores kept
    p2 = _cells(r, "problem2")
    assert all(c["outputs"] == [] for c in p2.values() if c["cell_type"] == "code")
    assert r.notebooks["problem2"].cells["test_total"].score == 3.0
    assert "test_total: <span class=\"passed\">3 / 3</span>" in r.notebooks[
        "problem2"].feedback_html


def test_a_failed_test_after_them_shows_only_a_builtin_error_name(graded):
    r = graded["results"]["later_test_raises"]
    p2 = _cells(r, "problem2")
    assert p2["test_total"]["metadata"]["learner_view"].get("error") is None  # E<hex>: no
    assert r.notebooks["problem2"].cells["test_total"].score == 0.0
    # and a builtin's name is shown: the sys.last_traceback attack fails the hidden test
    # with an IndexError (hidden cells show passed/failed only)
    tb = graded["results"]["sys_last_traceback"]
    assert "Hidden tests: failed" in tb.notebooks["problem1"].feedback_html
    assert "IndexError" not in tb.notebooks["problem1"].feedback_html


def test_cli_json_and_feedback_files_hold_no_hidden_code(graded, tmp_path):
    """`python -m grader autograde ... --json --feedback-dir` on an attack, as a learner's CI
    would run it."""
    config = tmp_path / "config.py"
    config.write_text(f"c.DockerSandbox.name_prefix = {PREFIX!r}\n"
                      f"c.DockerSandbox.work_root = {WORK_ROOT!r}\n")
    sub = graded["subs"]["grader_exception"]  # it makes the grader log a stopped notebook
    out = tmp_path / "feedback"
    proc = subprocess.run(
        [sys.executable, "-m", "grader", "autograde", str(graded["source"]), str(sub),
         "--json", "--feedback-dir", str(out), f"--config={config}"],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["score"] == 6.5
    assert "Execution stopped" in proc.stderr
    texts = {"stdout": proc.stdout, "stderr": proc.stderr,
             **{p.name: html.unescape(p.read_text()) for p in out.iterdir()}}
    assert set(texts) == {"stdout", "stderr", "problem1.html", "problem2.html"}
    assert leaks(texts) == []


def test_no_sandbox_is_left(graded):
    client = graded["docker"]
    # the low-level listing: containers.list() inspects each, and fails on one being removed
    left = [c["Names"] for c in client.api.containers(all=True, filters={"name": PREFIX})]
    assert left == []
    assert not Path(WORK_ROOT).exists() or list(Path(WORK_ROOT).iterdir()) == []
