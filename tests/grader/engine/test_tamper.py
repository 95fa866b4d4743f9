"""Submissions that rewire their kernel to change what a test reports.

Each one answers problem1 wrongly (``squares`` returns ``list(range(n))``: both of its tests
fail) and attacks the kernel in its answer cell. The grade must be the honest one (the test
fails, 0 points: the attack was undone or refused) or the submission goes to the instructor
for review with a null score; never the points. Every case also checks what every hostile
case checks: nothing of the hidden tests in what the learner gets back, the time bound, no
sandbox left behind, and an honest submission after them grading normally.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import shutil
import time
from pathlib import Path

import nbfactory as f
import pytest
from conftest import WORK_ROOT, engine_config, leftover_sandboxes

from grader.engine.autograde import autograde_async
from grader.engine.kernel_guard import ARM_OUT, SEAL_OUT
from grader.engine.release import build_release
from grader.engine.results import REVIEW_MESSAGE
from grader.engine.sandbox import SandboxPool

pytestmark = [pytest.mark.docker, pytest.mark.slow]

HIDDEN = "squares(BASE)[-1] == 81"
SEAL_LINE = re.compile(re.escape(SEAL_OUT) + r"[0-9a-f]+ [^#]* [0-9a-f]{64}##")
WALL = 20.0
WRONG = "\ndef squares(n):\n    return list(range(n))\n"

# The kernel's messages rewritten so that no test is ever seen failing: error outputs
# dropped, error replies turned into "ok". On its own it sends the submission to review; the
# cases below use it to make their other tricks count.
DROP_ERRORS = """
sess = get_ipython().kernel.session
orig_send = sess.send
def send(stream, msg_or_type, content=None, *a, **kw):
    kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get('msg_type')
    if kind == 'error':
        return None
    if kind == 'execute_reply' and content and content.get('status') == 'error':
        content = {**content, 'status': 'ok'}
    return orig_send(stream, msg_or_type, content, *a, **kw)
sess.send = send
"""

# name: (what the learner code does, the expected outcome: "review" or "refused")
TAMPER = {
    "fake_execute_handler": ("""
import types
k = get_ipython().kernel
orig = k.do_execute
async def do_execute(self, code, silent, *args, **kw):
    if 'assert' in code:
        return {'status': 'ok', 'execution_count': self.execution_count, 'payload': [],
                'user_expressions': {}}
    return await orig(code, silent, *args, **kw)
k.do_execute = types.MethodType(do_execute, k)
""", "review"),
    "class_execute_handler": ("""
k = get_ipython().kernel
orig = type(k).do_execute
async def do_execute(self, code, silent, *args, **kw):
    if 'assert' in code:
        code = 'pass'
    return await orig(self, code, silent, *args, **kw)
type(k).do_execute = do_execute
""", "review"),
    "run_cell_replaced": ("""
sh = get_ipython()
orig = sh.run_cell_async
async def run_cell_async(raw_cell, *args, **kw):
    if 'assert' in raw_cell:
        kw['transformed_cell'] = 'None\\n'
    return await orig(raw_cell, *args, **kw)
sh.run_cell_async = run_cell_async
""", "refused"),
    "showtraceback_silenced": ("""
get_ipython().showtraceback = lambda *a, **k: None
""", "refused"),
    "custom_exception_handler": ("""
get_ipython().set_custom_exc((AssertionError, NameError),
                             lambda self, etype, value, tb, tb_offset=None: None)
""", "refused"),
    "error_messages_dropped": (DROP_ERRORS, "review"),
    "ast_transformer_after_guard": ("""
import ast
class NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.append(NoAsserts())
""", "review"),
    "ast_transformer_before_guard": ("""
import ast
class NoAsserts(ast.NodeTransformer):
    def visit_Assert(self, node):
        return ast.Pass()
get_ipython().ast_transformers.insert(0, NoAsserts())
""", "refused"),
    "input_transformer_post": ("""
get_ipython().input_transformers_post.append(
    lambda lines: ['pass\\n'] if any('assert' in l for l in lines) else lines)
""", "refused"),
    "input_transformer_cleanup_first": ("""
get_ipython().input_transformers_cleanup.insert(
    0, lambda lines: ['pass\\n'] if any('assert' in l for l in lines) else lines)
""", "review"),
    "settrace_jump": ("""
import sys
def tracer(frame, event, arg):
    return tracer
sys.settrace(tracer)
""", "refused"),
    "threading_settrace": ("""
import threading, sys
threading.settrace(lambda *a: None)
t = threading.Thread(target=lambda: None)
t.start(); t.join()
""", "refused"),
    "forged_seal_line": ("""
import re
def squares(n):
    raw = get_ipython().history_manager.input_hist_raw
    nonces = re.findall(r'learning-studio-seal ([0-9a-f]+) ', '\\n'.join(raw))
    for nonce in nonces:
        print('\\n##learning-studio-seal ' + nonce + ' pass ' + 'ab' * 32 + '##')
    return list(range(n))
""" + DROP_ERRORS, "review"),
    "seal_event_from_learner_code": ("""
import re, sys
def squares(n):
    raw = get_ipython().history_manager.input_hist_raw
    for nonce in re.findall(r'learning-studio-seal ([0-9a-f]+) ', '\\n'.join(raw)):
        sys.audit('learning_studio.seal', nonce)
        print(sys.__dict__.pop('_learning_studio_seal', ''))
    return list(range(n))
""" + DROP_ERRORS, "review"),
    "rearm_for_a_new_key": ("""
import sys
sys.audit('learning_studio.arm')
""" + DROP_ERRORS, "review"),
    "guard_entered_directly": ("""
import sys
sys.audit('learning_studio.inner', 'learning_studio.arm', (), [])
""", "refused"),
    "gc_walk_for_the_key": ("""
import gc
found = [o for o in gc.get_objects() if isinstance(o, bytes) and len(o) == 32]
""", "refused"),
    "read_own_memory": ("""
f = open('/proc/self/mem', 'rb')
""", "refused"),
    "ctypes_memory": ("""
import ctypes
ctypes.string_at(id(1), 8)
""", "refused"),
    "child_reads_kernel_memory": ("""
import os, subprocess, sys
code = ("import sys; f = open('/proc/%d/mem' % int(sys.argv[1]), 'rb'); "
        "print('READ', f.read(1))")
r = subprocess.run([sys.executable, '-c', code, str(os.getpid())], capture_output=True,
                   text=True)
print('CHILD', r.stdout.strip() or r.stderr.strip().splitlines()[-1])
""", "wrong"),
    "signal_handler_frames": ("""
import signal, sys
seen = set()
def handler(signum, frame):
    while frame is not None:
        seen.add(frame.f_code.co_name)
        for v in list(frame.f_locals.values()):
            if isinstance(v, list) and v and isinstance(v[0], bytes) and len(v[0]) == 32:
                seen.add('KEY ' + v[0].hex())
        frame = frame.f_back
signal.signal(signal.SIGALRM, handler)
signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
def squares(n):
    print('FRAMES', sorted(seen))
    return list(range(n))
""", "wrong"),
    "new_audit_hook": ("""
import sys
calls = []
sys.addaudithook(lambda event, args: calls.append(event))
open('/dev/null').close()
print('HOOK CALLED', bool(calls))
""", "refused"),
}


def _config():
    c = engine_config(timeout=6)
    c.DockerSandbox.mem_limit = "256m"
    c.SandboxPool.wall_timeout = WALL
    return c


@pytest.fixture(scope="module")
def tamper(tmp_path_factory, docker_client):
    tmp = tmp_path_factory.mktemp("tamper")
    build = build_release(f.reference_assignment(tmp / "source" / "ps1"))
    student = tmp / "student"
    build.write_student_version(student)
    subs = {}
    for name, (attack, _) in TAMPER.items():
        answers = json.loads(json.dumps(f.CORRECT))
        answers["problem1"]["squares"] = WRONG + attack
        subs[name] = f.submission_from(student, tmp / "subs" / name, answers)
    subs["after"] = f.submission_from(student, tmp / "subs" / "after", f.CORRECT)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def run():
        pool = SandboxPool(config=_config(), warm=2, concurrency=2)
        seconds = {}

        async def one(name):
            t0 = time.monotonic()
            r = await autograde_async(build, subs[name], pool, config=_config())
            seconds[name] = time.monotonic() - t0
            return r

        try:
            results = await asyncio.gather(*(one(n) for n in TAMPER))
            after = await autograde_async(build, subs["after"], pool, config=_config())
        finally:
            await pool.close()
        # the same attack with the guard turned off (c.DockerSandbox.seal_tests = False)
        unguarded = _config()
        unguarded.DockerSandbox.seal_tests = False
        bare = SandboxPool(config=unguarded, warm=0, concurrency=1)
        try:
            unsealed = await autograde_async(build, subs["error_messages_dropped"], bare,
                                             config=unguarded)
        finally:
            await bare.close()
        return dict(zip(TAMPER, results, strict=True)), after, seconds, unsealed

    results, after, seconds, unsealed = asyncio.run(run())
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield {"results": results, "after": after, "seconds": seconds, "docker": docker_client,
           "unsealed": unsealed,
           "rss_growth_mib": (rss_after - rss_before) / 1024}
    shutil.rmtree(tmp, ignore_errors=True)


def _outputs(result, grade_id="squares") -> str:
    nb = result.notebooks["problem1"].graded_notebook
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
            return json.dumps(cell.get("outputs", []))
    raise KeyError(grade_id)


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_tampering_earns_no_points(tamper, name):
    result = tamper["results"][name]
    expected = TAMPER[name][1]
    data = result.to_json()
    p1 = result.notebooks["problem1"].cells
    in_review = bool(result.review_reasons)
    if expected == "review":
        assert in_review, (name, result.messages)
        assert data["score"] is None and "tampered" in data["review_reason"]
        assert result.messages[0] == REVIEW_MESSAGE
        for nb in result.notebooks.values():
            assert REVIEW_MESSAGE in nb.feedback_html
            assert all(c.score is None and c.needs_manual_grade for c in nb.cells.values())
    else:
        # refused or undone: the wrong answer fails its tests, as it would untampered
        assert not in_review, (name, result.review_reasons)
        assert p1["test_squares"].score == 0.0, (name, _outputs(result, "test_squares"))
        assert p1["test_squares_hidden"].score == 0.0
        # problem2 (its own kernel) is correct in every case and keeps its points
        assert result.notebooks["problem2"].cells["test_total"].score == 3.0


@pytest.mark.parametrize("name", sorted(TAMPER))
def test_tampering_case_is_contained(tamper, name):
    result = tamper["results"][name]
    # nothing of the hidden tests, and no seal or key, in what the learner gets back
    for nb in result.notebooks.values():
        assert HIDDEN not in nb.feedback_html
        assert not SEAL_LINE.search(nb.feedback_html) and ARM_OUT not in nb.feedback_html
    assert HIDDEN not in json.dumps(result.to_json())
    for nb in result.notebooks.values():
        assert ARM_OUT not in json.dumps(nb.graded_notebook)
    # the time bound: the sandbox's wall clock (the queue before it is not this case's)
    assert result.timings["run"] < WALL + 15, result.timings


def test_without_seals_the_attack_earns_the_points(tamper):
    # what the guard is for: the same rewired kernel, unguarded, is believed
    r = tamper["unsealed"]
    assert r.review_reasons == []
    assert r.notebooks["problem1"].cells["test_squares"].score == 2.0
    assert r.notebooks["problem1"].cells["test_squares_hidden"].score == 1.0


def test_refusals_say_what_is_refused(tamper):
    for name in ("gc_walk_for_the_key", "read_own_memory", "ctypes_memory", "settrace_jump"):
        assert "not available while grading" in _outputs(tamper["results"][name]), name
    # the guard's secret part runs only when its outer part (signals off) raised it
    assert "PermissionError" in _outputs(tamper["results"]["guard_entered_directly"])
    # a refused audit hook is dropped silently (CPython): it is never called
    assert "HOOK CALLED False" in _outputs(tamper["results"]["new_audit_hook"])


def test_no_other_process_reads_the_kernels_memory(tamper):
    out = _outputs(tamper["results"]["child_reads_kernel_memory"])
    assert "CHILD" in out and "READ" not in out and "PermissionError" in out, out


def test_signal_handlers_never_see_the_guard(tamper):
    # squares prints what the handler saw, when the tests call it
    tests = _outputs(tamper["results"]["signal_handler_frames"], "test_squares")
    assert "FRAMES" in tests and "KEY " not in tests, tests
    for guard_frame in ("guard", "on_seal", "on_value", "on_cell", "mac"):
        assert f"'{guard_frame}'" not in tests, tests


def test_grader_memory_stays_bounded(tamper):
    # the grader process holds nothing of the attacks beyond their (capped) outputs
    assert tamper["rss_growth_mib"] < 400, tamper["rss_growth_mib"]


def test_next_submission_grades_normally(tamper):
    after = tamper["after"]
    assert after.to_json()["score"] == 6.5
    assert after.review_reasons == [] and after.messages == []


def test_sandboxes_are_removed(tamper):
    assert leftover_sandboxes(tamper["docker"]) == []
    assert list(Path(WORK_ROOT).iterdir()) == []
